import { INestApplication } from '@nestjs/common';
import { DocumentBuilder, OpenAPIObject, SwaggerModule } from '@nestjs/swagger';
import { AuditApiModule } from '../audit/audit-api.module';
import { AuthApiModule } from '../auth/auth-api.module';
import { REQUIRED_PERMISSION_EXTENSION, REQUIRED_ROLE_EXTENSION } from '../auth/requires-permission.decorator';
import { BackupModule } from '../backup/backup.module';
import { HealthModule } from '../health/health.module';
import { LockModule } from '../lock/lock.module';
import { MetricsModule } from '../metrics/metrics.module';
import { PRODUCT_VERSION } from '../product-version';
import { RestoreModule } from '../restore/restore.module';
import { SettingsModule } from '../settings/settings.module';
import { UiModule } from '../ui/ui.module';
import { ADMIN_SECURITY, DOCS_JSON_PATH, DOCS_PATH, METRICS_TOKEN_SECURITY } from './openapi.constants';

/** The modules whose controllers PgBackupModule mounts (the page's are excluded by `@ApiExcludeController`). */
const DOCUMENTED_MODULES = [SettingsModule, BackupModule, RestoreModule, LockModule, AuditApiModule, AuthApiModule, HealthModule, MetricsModule, UiModule];

const DEFAULT_PATH = 'api/admin';

export interface PgBackupDocsOptions {
  /** The admin API's `path`, as given to PgBackupModule (default `api/admin`); the docs go below it. */
  path?: string;
}

/**
 * The OpenAPI document of PgBackupModule's routes (and only theirs, whatever else the app
 * serves), with their real paths: the module's `path`, `healthPath`, `metricsPath` and the
 * app's global prefix (set that first). Needs the created app only: no `init`, no database.
 */
export function buildPgBackupDocument(app: INestApplication): OpenAPIObject {
  const config = new DocumentBuilder()
    .setTitle('nestjs-pg-backup')
    .setDescription(
      'PostgreSQL backup and restore: the admin API (a JWT with an admin, operator or viewer role), the health probes (public) and the Prometheus metrics. ' +
        'Each admin operation names the permission it needs (`x-required-permission`) and the lowest role level holding it (`x-required-role`): ' +
        'viewers read, operators also back up, verify, drill, download and pin, admins may do everything. ' +
        'Their errors answer `ApiErrorResponse` (the probes answer 503 with their checks). Backups, restores and drills run in the background: poll the entry, or follow GET /operations/current/events.',
    )
    .setVersion(PRODUCT_VERSION)
    .addBearerAuth({ type: 'http', scheme: 'bearer', bearerFormat: 'JWT', description: 'A JWT whose roles include an admin, operator or viewer role' }, ADMIN_SECURITY)
    .addSecurity(METRICS_TOKEN_SECURITY, { type: 'http', scheme: 'bearer', description: 'The metrics token, when one is configured (open otherwise)' })
    .addTag('backups', 'Backup files and their history')
    .addTag('restores', 'Restores, and restore drills into a scratch database')
    .addTag('settings', 'Schedule, retention and backup settings, shared by every instance')
    .addTag('operations', 'The one operation that runs at a time, across every instance')
    .addTag('audit', 'Who did what, including refused requests')
    .addTag('auth', "The token's own rights")
    .addTag('health', 'Probes for orchestrators, public')
    .addTag('metrics', 'The Prometheus scrape target')
    .setLicense('MIT', 'https://opensource.org/licenses/MIT')
    .addServer('/', 'The server that serves this document')
    .build();
  return lintClean(withRequiredRoles(SwaggerModule.createDocument(app, config, { include: DOCUMENTED_MODULES })));
}

const OPERATIONS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'] as const;
type Operation = NonNullable<OpenAPIObject['paths'][string]['get']> & Record<string, unknown>;

/** Each admin operation's description ends by naming who may call it, for readers who skip the extensions. */
function withRequiredRoles(document: OpenAPIObject): OpenAPIObject {
  for (const item of Object.values(document.paths)) {
    for (const method of OPERATIONS) {
      const operation = item[method] as Operation | undefined;
      const level = operation?.[REQUIRED_ROLE_EXTENSION];
      if (!operation || typeof level !== 'string') continue;
      const who = level === 'admin' ? 'an admin' : level === 'operator' ? 'an operator or an admin' : 'a viewer, an operator or an admin';
      const sentence = `Requires \`${String(operation[REQUIRED_PERMISSION_EXTENSION])}\`: ${who}.`;
      operation.description = operation.description ? `${operation.description} ${sentence}` : sentence;
    }
  }
  return document;
}

/** What OpenAPI linters (redocly's recommended rules) require and Nest leaves out: the public routes (health) say so with `security: []`. */
function lintClean(document: OpenAPIObject): OpenAPIObject {
  for (const item of Object.values(document.paths)) {
    for (const method of OPERATIONS) {
      const operation = item[method];
      if (operation && !operation.security) operation.security = [];
    }
  }
  return document;
}

/**
 * Serves the document: Swagger UI at `/<path>/docs`, the JSON at `/<path>/docs-json` and YAML
 * at `/<path>/docs-yaml` (after the app's global prefix, like the API). Call it after `NestFactory.create` and
 * before `listen`. Returns the document.
 */
export function setupPgBackupDocs(app: INestApplication, { path = DEFAULT_PATH }: PgBackupDocsOptions = {}): OpenAPIObject {
  const document = buildPgBackupDocument(app);
  const base = path.replace(/^\/+|\/+$/g, '');
  SwaggerModule.setup(`${base}/${DOCS_PATH}`, app, document, {
    jsonDocumentUrl: `${base}/${DOCS_JSON_PATH}`,
    useGlobalPrefix: true,
    customSiteTitle: 'nestjs-pg-backup API',
  });
  return document;
}
