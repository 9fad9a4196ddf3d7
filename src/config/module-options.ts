import { plainToInstance, Type } from 'class-transformer';
import { ArrayNotEmpty, IsArray, IsInt, IsNotEmpty, IsObject, IsOptional, IsString, Matches, Max, Min, MinLength, ValidateNested, validateSync, ValidationError } from 'class-validator';
import type { PgBackupModuleOptions, PgBackupOptions } from '../pg-backup.options';
import { DATABASE_URL_PATTERN, RESERVED_SCHEMA, SCHEMA_PATTERN } from './env.validation';

/** The defaults the README promises, the same as the standalone server's. */
export const DEFAULT_MIN_FREE_BYTES = 100 * 1024 * 1024;
export const DEFAULT_RESTORE_GRACE_MS = 10_000;

export class InvalidModuleOptionsError extends Error {}

class AuthRules {
  @IsOptional()
  @IsString({ message: 'auth.secret must be a string' })
  @MinLength(16, { message: 'auth.secret must be at least 16 characters' })
  secret?: string;

  @IsOptional()
  @Matches(/-----BEGIN PUBLIC KEY-----/, { message: 'auth.publicKey must be a PEM public key (-----BEGIN PUBLIC KEY-----)' })
  publicKey?: string;

  @IsOptional()
  @Matches(/^https?:\/\//, { message: 'auth.jwksUri must be an http(s) URL' })
  jwksUri?: string;

  @IsArray({ message: 'auth.adminRoles must be a list of role names' })
  @ArrayNotEmpty({ message: 'auth.adminRoles must name at least one role' })
  @IsString({ each: true, message: 'auth.adminRoles must be a list of role names' })
  adminRoles!: string[];
}

/** What is checked of the options before anything connects; JavaScript hosts get no compiler to tell them. */
class ModuleOptionsRules {
  @Matches(DATABASE_URL_PATTERN, { message: 'databaseUrl must look like postgres://user:pass@host:5432/db' })
  databaseUrl!: string;

  @Matches(SCHEMA_PATTERN, { message: 'schema must be a lower-case SQL identifier naming the schema of the module\'s tables, e.g. backup_admin' })
  schema!: string;

  @IsString({ message: 'backupDir must be the directory the backups are written to' })
  @IsNotEmpty({ message: 'backupDir must be the directory the backups are written to' })
  backupDir!: string;

  @IsObject({ message: 'auth must be set: the key admin tokens are verified with and adminRoles' })
  @ValidateNested()
  @Type(() => AuthRules)
  auth!: AuthRules;

  @IsInt({ message: 'minFreeBytes must be a whole number of bytes' })
  @Min(0, { message: 'minFreeBytes must not be negative' })
  minFreeBytes!: number;

  @IsInt({ message: 'restoreGraceMs must be a whole number of milliseconds' })
  @Min(0, { message: 'restoreGraceMs must not be negative' })
  restoreGraceMs!: number;

  @IsOptional()
  @IsInt({ message: 'compressionLevel must be a whole number' })
  @Min(1, { message: 'compressionLevel must be 1–19' })
  @Max(19, { message: 'compressionLevel must be 1–19' })
  compressionLevel?: number;
}

/** The module's options with their defaults, checked at start; a bad one fails at once, naming the option. */
export function validateModuleOptions(input: PgBackupModuleOptions): PgBackupOptions {
  if (typeof input !== 'object' || input === null) throw new InvalidModuleOptionsError('invalid PgBackupModule options: useFactory must return an object');
  const options: PgBackupOptions = {
    ...input,
    minFreeBytes: input.minFreeBytes ?? DEFAULT_MIN_FREE_BYTES,
    restoreGraceMs: input.restoreGraceMs ?? DEFAULT_RESTORE_GRACE_MS,
  };
  const { databaseUrl, schema, backupDir, auth, minFreeBytes, restoreGraceMs, compressionLevel } = options;
  const rules = plainToInstance(ModuleOptionsRules, { databaseUrl, schema, backupDir, auth, minFreeBytes, restoreGraceMs, compressionLevel });
  const problems = validateSync(rules).flatMap(messages);
  if (typeof schema === 'string' && RESERVED_SCHEMA.test(schema)) {
    problems.push(`schema must be a schema of its own, not ${schema}: it is left out of every dump and kept by every restore`);
  }
  if (auth && typeof auth === 'object' && !auth.secret && !auth.publicKey && !auth.jwksUri) {
    problems.push('auth needs secret, publicKey or jwksUri to verify admin tokens');
  }
  if (problems.length) throw new InvalidModuleOptionsError(`invalid PgBackupModule options:\n  ${problems.join('\n  ')}`);
  return options;
}

function messages(error: ValidationError): string[] {
  return [...Object.values(error.constraints ?? {}), ...(error.children ?? []).flatMap(messages)].filter((m, i, all) => all.indexOf(m) === i);
}
