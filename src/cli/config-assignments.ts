import { UpdateConfigDto } from '../settings/dto/update-config.dto';
import { BackupConfig } from '../settings/settings.service';
import { usageError } from './exit-codes';
import { validated } from './validation';

/**
 * `config set` arguments → the API's UpdateConfigDto, checked by the same class-validator rules
 * as `PUT /backups/config`. Each argument is `key=value`; the value is read as JSON when it
 * parses (`true`, `60`, `null`, `{"keepLast":3,…}`) and as text otherwise (`schedule=0 3 * * *`).
 * `retention.keepLast=14` changes one field of an object setting and keeps the others (only
 * then is `current` read: other mistakes are found without connecting).
 */
export async function parseConfigAssignments(
  assignments: string[],
  current: () => Promise<Pick<BackupConfig, 'retention'>>,
): Promise<UpdateConfigDto> {
  const plain: Record<string, unknown> = {};
  for (const assignment of assignments) {
    const at = assignment.indexOf('=');
    if (at <= 0) throw usageError(`expected key=value, got "${assignment}"`);
    const [key, value] = [assignment.slice(0, at).trim(), parseValue(assignment.slice(at + 1))];
    const dot = key.indexOf('.');
    if (dot === -1) {
      plain[key] = value;
      continue;
    }
    const [parent, child] = [key.slice(0, dot), key.slice(dot + 1)];
    const base = plain[parent] ?? ((await current()) as Record<string, unknown>)[parent];
    if (!isObject(base)) throw usageError(`${parent} is not a setting with fields; set it as ${parent}=<value>`);
    plain[parent] = { ...base, [child]: value };
  }
  return validated(UpdateConfigDto, plain, 'invalid configuration: ');
}

function parseValue(raw: string): unknown {
  try {
    return JSON.parse(raw);
  } catch {
    return raw;
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
