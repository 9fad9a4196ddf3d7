import { plainToInstance } from 'class-transformer';
import { validate, ValidationError } from 'class-validator';
import { usageError } from './exit-codes';

/**
 * `plain` as an instance of `type`, checked by the same rules as the API's ValidationPipe
 * (whitelist, no unknown properties); a usage error (exit 2) with every message otherwise.
 */
export async function validated<T extends object>(type: new () => T, plain: Record<string, unknown>, prefix = ''): Promise<T> {
  const defined = Object.fromEntries(Object.entries(plain).filter(([, value]) => value !== undefined));
  const dto = plainToInstance(type, defined);
  const errors = await validate(dto, { whitelist: true, forbidNonWhitelisted: true });
  if (errors.length) throw usageError(`${prefix}${errors.flatMap((e) => messages(e)).join('; ')}`);
  return dto;
}

/** Every constraint message; nested ones name their path (`retention.keepLast must not be less than 0`). */
function messages(error: ValidationError, parent = ''): string[] {
  const path = parent ? `${parent}.${error.property}` : error.property;
  const own = Object.values(error.constraints ?? {}).map((message) =>
    message.startsWith(error.property) ? `${parent ? `${parent}.` : ''}${message}` : `${path}: ${message}`,
  );
  return [...own, ...(error.children ?? []).flatMap((child) => messages(child, path))];
}
