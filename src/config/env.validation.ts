import { plainToInstance, Transform } from 'class-transformer';
import { IsIn, IsInt, IsOptional, IsString, IsUrl, Matches, Max, Min, MinLength, validateSync, ValidationError } from 'class-validator';
import { jwksProblems } from '../auth/token-policy';
import { corsOriginProblem } from './cors';
import { BACKUP_EVENT_NAMES } from '../events/backup-events';
import { cronProblem } from '../settings/cron';

const EVENT_NAME = `(${BACKUP_EVENT_NAMES.map((name) => name.replace('.', '\\.')).join('|')})`;
const NOTIFY_EVENTS_PATTERN = new RegExp(`^\\s*${EVENT_NAME}(\\s*,\\s*${EVENT_NAME})*\\s*$`);

/** Shared with the module options (module-options.ts): the same rules for both ways in. */
export const DATABASE_URL_PATTERN = /^postgres(ql)?:\/\/[^\s]+$/;
export const SCHEMA_PATTERN = /^[a-z_][a-z0-9_]{0,62}$/;
/** Schemas a dump or restore never leaves alone, so the module's tables cannot live there. */
export const RESERVED_SCHEMA = /^(public|pg_.*|information_schema)$/;

const toInt = ({ value }: { value: unknown }) => (value === undefined || value === '' ? undefined : Number(value));

/** The standalone server's environment (see README, "Configuration"). */
export class EnvironmentVariables {
  @IsOptional()
  @Matches(DATABASE_URL_PATTERN, { message: 'DATABASE_URL must look like postgres://user:pass@host:5432/db' })
  DATABASE_URL?: string;

  @IsOptional()
  @Transform(toInt)
  @IsInt({ message: 'PORT must be a whole number' })
  @Min(0)
  @Max(65535)
  PORT?: number;

  @IsOptional()
  @IsString()
  BACKUP_DIR?: string;

  @IsOptional()
  @IsString()
  BACKUP_EXTERNAL_DIR?: string;

  @IsOptional()
  @Matches(/^\/[^,]*(,\s*\/[^,]*)*$/, { message: 'BACKUP_INCLUDE_PATHS must be a comma-separated list of absolute paths' })
  BACKUP_INCLUDE_PATHS?: string;

  @IsOptional()
  @Matches(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, { message: 'BACKUP_S3_BUCKET must be an S3 bucket name' })
  BACKUP_S3_BUCKET?: string;

  @IsOptional()
  @IsString()
  BACKUP_S3_PREFIX?: string;

  @IsOptional()
  @IsUrl({ require_tld: false, protocols: ['http', 'https'] }, { message: 'BACKUP_S3_ENDPOINT must be an http(s) URL' })
  BACKUP_S3_ENDPOINT?: string;

  @IsOptional()
  @IsString()
  BACKUP_S3_REGION?: string;

  @IsOptional()
  @IsString()
  BACKUP_S3_ACCESS_KEY_ID?: string;

  @IsOptional()
  @IsString()
  BACKUP_S3_SECRET_ACCESS_KEY?: string;

  @IsOptional()
  @IsIn(['true', 'false'], { message: 'BACKUP_S3_FORCE_PATH_STYLE must be true or false' })
  BACKUP_S3_FORCE_PATH_STYLE?: string;

  @IsOptional()
  @Transform(toInt)
  @IsInt({ message: 'BACKUP_UPLOAD_MAX_MB must be a whole number' })
  @Min(1)
  BACKUP_UPLOAD_MAX_MB?: number;

  @IsOptional()
  @Transform(toInt)
  @IsInt({ message: 'BACKUP_UPLOAD_IDLE_TIMEOUT_SECONDS must be a whole number' })
  @Min(1)
  @Max(86_400)
  BACKUP_UPLOAD_IDLE_TIMEOUT_SECONDS?: number;

  @IsOptional()
  @Transform(toInt)
  @IsInt({ message: 'BACKUP_MAX_CONCURRENT_DOWNLOADS must be a whole number' })
  @Min(1)
  @Max(1000)
  BACKUP_MAX_CONCURRENT_DOWNLOADS?: number;

  @IsOptional()
  @Transform(toInt)
  @IsInt({ message: 'BACKUP_MAX_CONCURRENT_VERIFIES must be a whole number' })
  @Min(1)
  @Max(1000)
  BACKUP_MAX_CONCURRENT_VERIFIES?: number;

  @IsOptional()
  @Matches(SCHEMA_PATTERN, { message: 'BACKUP_SCHEMA must be a lower-case SQL identifier' })
  BACKUP_SCHEMA?: string;

  @IsOptional()
  @IsString()
  @MinLength(16, { message: 'JWT_SECRET must be at least 16 characters' })
  JWT_SECRET?: string;

  @IsOptional()
  @Matches(/-----BEGIN PUBLIC KEY-----/, { message: 'JWT_PUBLIC_KEY must be a PEM public key (-----BEGIN PUBLIC KEY-----)' })
  JWT_PUBLIC_KEY?: string;

  @IsOptional()
  @IsUrl({ require_tld: false, protocols: ['http', 'https'] }, { message: 'JWKS_URI must be an http(s) URL' })
  JWKS_URI?: string;

  @IsOptional()
  @IsString()
  JWT_ISSUER?: string;

  @IsOptional()
  @IsString()
  JWT_AUDIENCE?: string;

  @IsOptional()
  @Transform(toInt)
  @IsInt({ message: 'JWT_MAX_LIFETIME_SECONDS must be a whole number' })
  @Min(60)
  @Max(31_536_000)
  JWT_MAX_LIFETIME_SECONDS?: number;

  @IsOptional()
  @Matches(/^\s*[\w.:-]+(\s*,\s*[\w.:-]+)*\s*$/, { message: 'ADMIN_ROLES must be a comma-separated list of role names' })
  ADMIN_ROLES?: string;

  @IsOptional()
  @Matches(/^\s*[\w.:-]+(\s*,\s*[\w.:-]+)*\s*$/, { message: 'OPERATOR_ROLES must be a comma-separated list of role names' })
  OPERATOR_ROLES?: string;

  @IsOptional()
  @Matches(/^\s*[\w.:-]+(\s*,\s*[\w.:-]+)*\s*$/, { message: 'VIEWER_ROLES must be a comma-separated list of role names' })
  VIEWER_ROLES?: string;

  @IsOptional()
  @IsString()
  CORS_ORIGINS?: string;

  @IsOptional()
  @IsString()
  BACKUP_SCHEDULE?: string;

  @IsOptional()
  @IsString()
  PG_BIN_DIR?: string;

  @IsOptional()
  @Transform(toInt)
  @IsInt({ message: 'BACKUP_MIN_FREE_MB must be a whole number' })
  @Min(0)
  BACKUP_MIN_FREE_MB?: number;

  @IsOptional()
  @Transform(toInt)
  @IsInt({ message: 'RESTORE_GRACE_SECONDS must be a whole number' })
  @Min(0)
  @Max(86_400)
  RESTORE_GRACE_SECONDS?: number;

  @IsOptional()
  @Transform(toInt)
  @IsInt({ message: 'BACKUP_LOCK_WAIT_SECONDS must be a whole number' })
  @Min(1)
  @Max(86_400)
  BACKUP_LOCK_WAIT_SECONDS?: number;

  @IsOptional()
  @IsIn(['debug', 'log', 'warn', 'error'])
  LOG_LEVEL?: string;

  @IsOptional()
  @IsIn(['zstd', 'gzip', 'none'], { message: 'BACKUP_COMPRESSION must be one of zstd, gzip, none' })
  BACKUP_COMPRESSION?: 'zstd' | 'gzip' | 'none';

  @IsOptional()
  @Transform(toInt)
  @IsInt({ message: 'BACKUP_COMPRESSION_LEVEL must be a whole number' })
  @Min(1)
  @Max(19)
  BACKUP_COMPRESSION_LEVEL?: number;

  @IsOptional()
  @Matches(/^\s*age1[02-9ac-hj-np-z]{58}(\s*,\s*age1[02-9ac-hj-np-z]{58})*\s*$/, {
    message: 'BACKUP_AGE_RECIPIENTS must be a comma-separated list of age X25519 recipients (age1…)',
  })
  BACKUP_AGE_RECIPIENTS?: string;

  @IsOptional()
  @IsString()
  BACKUP_AGE_IDENTITY_FILE?: string;

  @IsOptional()
  @IsString()
  @MinLength(12, { message: 'BACKUP_ENCRYPTION_PASSPHRASE must be at least 12 characters' })
  BACKUP_ENCRYPTION_PASSPHRASE?: string;

  @IsOptional()
  @IsIn(['true', 'false'], { message: 'BACKUP_ON_STARTUP must be true or false' })
  BACKUP_ON_STARTUP?: string;

  @IsOptional()
  @Transform(toInt)
  @IsInt({ message: 'BACKUP_ON_STARTUP_WINDOW_MINUTES must be a whole number' })
  @Min(0)
  BACKUP_ON_STARTUP_WINDOW_MINUTES?: number;

  @IsOptional()
  @Transform(toInt)
  @IsInt({ message: 'BACKUP_TRIGGER_DEBOUNCE_SECONDS must be a whole number' })
  @Min(0)
  @Max(86_400)
  BACKUP_TRIGGER_DEBOUNCE_SECONDS?: number;

  @IsOptional()
  @Transform(toInt)
  @IsInt({ message: 'BACKUP_EXACT_COUNT_MAX_MB must be a whole number' })
  @Min(0)
  BACKUP_EXACT_COUNT_MAX_MB?: number;

  @IsOptional()
  @Matches(/^\s*https?:\/\/[^\s,]+(\s*,\s*https?:\/\/[^\s,]+)*\s*$/, { message: 'BACKUP_WEBHOOK_URLS must be a comma-separated list of http(s) URLs' })
  BACKUP_WEBHOOK_URLS?: string;

  @IsOptional()
  @IsString()
  @MinLength(16, { message: 'BACKUP_WEBHOOK_SECRET must be at least 16 characters' })
  BACKUP_WEBHOOK_SECRET?: string;

  @IsOptional()
  @Matches(/^\s*https?:\/\/[^\s,]+(\s*,\s*https?:\/\/[^\s,]+)*\s*$/, { message: 'RESTORE_HOOK_URLS must be a comma-separated list of http(s) URLs' })
  RESTORE_HOOK_URLS?: string;

  @IsOptional()
  @IsString()
  @MinLength(16, { message: 'RESTORE_HOOK_SECRET must be at least 16 characters' })
  RESTORE_HOOK_SECRET?: string;

  @IsOptional()
  @Transform(toInt)
  @IsInt({ message: 'RESTORE_HOOK_TIMEOUT_SECONDS must be a whole number' })
  @Min(1)
  @Max(3600)
  RESTORE_HOOK_TIMEOUT_SECONDS?: number;

  @IsOptional()
  @Matches(NOTIFY_EVENTS_PATTERN, { message: `BACKUP_NOTIFY_EVENTS must be a comma-separated list of ${BACKUP_EVENT_NAMES.join(', ')}` })
  BACKUP_NOTIFY_EVENTS?: string;

  @IsOptional()
  @Matches(/^smtps?:\/\/\S+$/, { message: 'SMTP_URL must look like smtp://user:pass@host:587 or smtps://…' })
  SMTP_URL?: string;

  @IsOptional()
  @IsString()
  BACKUP_NOTIFY_EMAIL_FROM?: string;

  @IsOptional()
  @Matches(/^\s*[^\s,@]+@[^\s,@]+(\s*,\s*[^\s,@]+@[^\s,@]+)*\s*$/, { message: 'BACKUP_NOTIFY_EMAIL_TO must be a comma-separated list of e-mail addresses' })
  BACKUP_NOTIFY_EMAIL_TO?: string;

  @IsOptional()
  @Transform(toInt)
  @IsInt({ message: 'HEALTH_MAX_BACKUP_AGE_HOURS must be a whole number' })
  @Min(1)
  HEALTH_MAX_BACKUP_AGE_HOURS?: number;

  @IsOptional()
  @IsString()
  @MinLength(16, { message: 'METRICS_TOKEN must be at least 16 characters' })
  METRICS_TOKEN?: string;

  @IsOptional()
  @Matches(/^\/[^,]*(,\s*\/[^,]*)*$/, { message: 'RESTORE_FILES_ROOTS must be a comma-separated list of absolute paths' })
  RESTORE_FILES_ROOTS?: string;

  @IsOptional()
  @IsIn(['true', 'false'], { message: 'RESTORE_FILES_IN_PLACE must be true or false' })
  RESTORE_FILES_IN_PLACE?: string;

  @IsOptional()
  @IsString()
  @MinLength(16, { message: 'MANIFEST_HMAC_KEY must be at least 16 characters' })
  MANIFEST_HMAC_KEY?: string;

  @IsOptional()
  @IsIn(['true', 'false'], { message: 'MANIFEST_REQUIRE_SIGNATURE must be true or false' })
  MANIFEST_REQUIRE_SIGNATURE?: string;

  @IsOptional()
  @IsIn(['true', 'false'], { message: 'METRICS_PUBLIC must be true or false' })
  METRICS_PUBLIC?: string;

  @IsOptional()
  @Transform(toInt)
  @IsInt({ message: 'HEALTH_READY_CACHE_SECONDS must be a whole number' })
  @Min(0)
  @Max(3600)
  HEALTH_READY_CACHE_SECONDS?: number;

  @IsOptional()
  @Transform(toInt)
  @IsInt({ message: 'AUDIT_RETENTION_DAYS must be a whole number' })
  @Min(0)
  AUDIT_RETENTION_DAYS?: number;

  @IsOptional()
  @Transform(toInt)
  @IsInt({ message: 'ADMIN_RATE_LIMIT_PER_MINUTE must be a whole number' })
  @Min(0)
  ADMIN_RATE_LIMIT_PER_MINUTE?: number;

  @IsOptional()
  @Transform(toInt)
  @IsInt({ message: 'ADMIN_RATE_LIMIT_PER_ADDRESS_PER_MINUTE must be a whole number' })
  @Min(0)
  ADMIN_RATE_LIMIT_PER_ADDRESS_PER_MINUTE?: number;

  @IsOptional()
  @Transform(toInt)
  @IsInt({ message: 'BACKUP_RATE_LIMIT_PER_HOUR must be a whole number' })
  @Min(0)
  BACKUP_RATE_LIMIT_PER_HOUR?: number;
}

export class InvalidEnvironmentError extends Error {}

/** The origins an admin panel may call the standalone server from; none by default (same origin only). */
export function corsOrigins(env: EnvironmentVariables): string[] {
  return (env.CORS_ORIGINS ?? '').split(',').map((origin) => origin.trim()).filter(Boolean);
}

/** Reads and checks the environment; a bad value fails with a message naming the variable. */
export function validateEnvironment(env: NodeJS.ProcessEnv): EnvironmentVariables {
  const vars = plainToInstance(EnvironmentVariables, env, { excludeExtraneousValues: false });
  const problems = validateSync(vars, { skipMissingProperties: false }).flatMap(describeValidationError);
  if (vars.BACKUP_SCHEDULE) {
    const problem = cronProblem(vars.BACKUP_SCHEDULE);
    if (problem) problems.push(`BACKUP_SCHEDULE: ${problem}`);
  }
  for (const entry of corsOrigins(vars)) {
    const problem = corsOriginProblem(entry);
    if (problem) problems.push(`CORS_ORIGINS: ${problem}`);
  }
  if (vars.BACKUP_SCHEMA && RESERVED_SCHEMA.test(vars.BACKUP_SCHEMA)) {
    problems.push(`BACKUP_SCHEMA must be a schema of its own, not ${vars.BACKUP_SCHEMA}: it is left out of every dump and kept by every restore`);
  }
  if (vars.BACKUP_ENCRYPTION_PASSPHRASE && (vars.BACKUP_AGE_RECIPIENTS || vars.BACKUP_AGE_IDENTITY_FILE)) {
    problems.push('BACKUP_ENCRYPTION_PASSPHRASE cannot be combined with BACKUP_AGE_RECIPIENTS or BACKUP_AGE_IDENTITY_FILE (age allows a passphrase only alone)');
  }
  if (vars.BACKUP_COMPRESSION === 'gzip' && (vars.BACKUP_COMPRESSION_LEVEL ?? 0) > 9) {
    problems.push('BACKUP_COMPRESSION_LEVEL must be 1–9 for gzip');
  }
  if (vars.MANIFEST_REQUIRE_SIGNATURE === 'true' && !vars.MANIFEST_HMAC_KEY) problems.push('MANIFEST_REQUIRE_SIGNATURE=true needs MANIFEST_HMAC_KEY');
  problems.push(...jwksProblems({ jwksUri: vars.JWKS_URI, issuer: vars.JWT_ISSUER, audience: vars.JWT_AUDIENCE }));
  if (env.NODE_ENV === 'production') {
    for (const name of ['JWT_SECRET', 'METRICS_TOKEN'] as const) {
      const problem = vars[name] === undefined ? null : weakSecretProblem(vars[name]);
      if (problem) problems.push(`${name} ${problem} (NODE_ENV=production; generate one with: openssl rand -hex 32)`);
    }
  }
  if (vars.SMTP_URL && !vars.BACKUP_NOTIFY_EMAIL_TO) problems.push('SMTP_URL is set, so BACKUP_NOTIFY_EMAIL_TO must name who receives the e-mails');
  if (problems.length) throw new InvalidEnvironmentError(`invalid configuration:\n  ${problems.join('\n  ')}`);
  return vars;
}

/**
 * In production a secret must not be a copied placeholder (the length rule, 16, holds everywhere:
 * the acceptance suite runs in production with a 27-character secret, so 32 is not enforced).
 */
const PLACEHOLDER = /change[-_ ]?(?:me|this)|replace[-_ ]?me|example|placeholder|dummy|your[-_ ]?secret|^(?:my[-_ ]?|jwt[-_ ]?)?secret$|^(.)\1*$/i;

function weakSecretProblem(value: string): string | null {
  return PLACEHOLDER.test(value) ? 'looks like a placeholder, not a secret' : null;
}

export function describeValidationError(error: ValidationError): string[] {
  return Object.values(error.constraints ?? {}).map((message) =>
    message.startsWith(error.property) ? message : `${error.property}: ${message}`,
  );
}
