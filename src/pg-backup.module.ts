import { DynamicModule, Global, Module, Provider, Type } from '@nestjs/common';
import { RouterModule } from '@nestjs/core';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AuditApiModule } from './audit/audit-api.module';
import { AuthApiModule } from './auth/auth-api.module';
import { AutomationModule } from './automation/automation.module';
import { EventsModule } from './events/events.module';
import { BackupModule } from './backup/backup.module';
import { validateModuleOptions } from './config/module-options';
import { dataSourceOptions } from './database/data-source';
import { initializeDataSource } from './database/migrations';
import { UnsupportedPostgresError } from './database/postgres-version';
import { HealthModule } from './health/health.module';
import { LockModule } from './lock/lock.module';
import { MetricsModule } from './metrics/metrics.module';
import { NotificationsModule } from './notifications/notifications.module';
import { PG_BACKUP_ADMIN_PATH, PG_BACKUP_CONNECTION, PG_BACKUP_OPTIONS, PgBackupModuleAsyncOptions, PgBackupModuleOptions, PgBackupOptions } from './pg-backup.options';
import { RestoreModule } from './restore/restore.module';
import { SettingsModule } from './settings/settings.module';
import { UiModule } from './ui/ui.module';

const DEFAULT_PATH = 'api/admin';
const DEFAULT_UI_PATH = 'backup-admin';

/** A module on a route of its own, outside the admin prefix; nothing when its path is `false`. */
function mountedAt(path: string | false, module: Type | DynamicModule): (Type | DynamicModule)[] {
  return path === false ? [] : [module, RouterModule.register([{ path, module: 'module' in module ? module.module : module }])];
}

@Global()
@Module({})
class PgBackupOptionsModule {
  static register(options: PgBackupModuleAsyncOptions): DynamicModule {
    const provider: Provider = {
      provide: PG_BACKUP_OPTIONS,
      useFactory: async (...args: unknown[]) => validateModuleOptions(await options.useFactory(...args)),
      inject: options.inject ?? [],
    };
    const adminPath: Provider = { provide: PG_BACKUP_ADMIN_PATH, useValue: options.path ?? DEFAULT_PATH };
    return { module: PgBackupOptionsModule, imports: options.imports ?? [], providers: [provider, adminPath], exports: [provider, adminPath] };
  }
}

/**
 * PostgreSQL backup and restore for a NestJS app: the guarded admin API under `path`
 * (default `api/admin`), its own schema and data source, one operation at a time.
 */
@Module({})
export class PgBackupModule {
  static forRoot(options: PgBackupModuleOptions & Pick<PgBackupModuleAsyncOptions, 'path' | 'healthPath' | 'metricsPath' | 'uiPath'>): DynamicModule {
    const { path, healthPath, metricsPath, uiPath } = options;
    return this.forRootAsync({ path, healthPath, metricsPath, uiPath, useFactory: () => options });
  }

  static forRootAsync(options: PgBackupModuleAsyncOptions): DynamicModule {
    // Settings before backups, so /backups/config is matched before /backups/:id.
    const features = [SettingsModule, BackupModule, RestoreModule, LockModule, AuditApiModule, AuthApiModule];
    const uiPath = options.uiPath ?? DEFAULT_UI_PATH;
    return {
      module: PgBackupModule,
      imports: [
        PgBackupOptionsModule.register(options),
        TypeOrmModule.forRootAsync({
          name: PG_BACKUP_CONNECTION,
          inject: [PG_BACKUP_OPTIONS],
          // a server too old stays too old: fail at once rather than after the retries
          useFactory: (o: PgBackupOptions) => ({ ...dataSourceOptions(o.databaseUrl, o.schema), toRetry: (error: unknown) => !(error instanceof UnsupportedPostgresError) }),
          dataSourceFactory: (o) => initializeDataSource(o as ReturnType<typeof dataSourceOptions>),
        }),
        ...features,
        NotificationsModule,
        AutomationModule,
        EventsModule,
        RouterModule.register([{ path: options.path ?? DEFAULT_PATH, module: PgBackupModule, children: features }]),
        ...mountedAt(options.healthPath ?? 'health', HealthModule),
        ...mountedAt(options.metricsPath ?? 'metrics', MetricsModule),
        ...(uiPath === false ? [] : mountedAt(uiPath, UiModule.register({ uiPath, apiPath: options.path ?? DEFAULT_PATH }))),
      ],
      // BackupService, LockService and BackupTrigger, for host apps that start backups themselves
      exports: [BackupModule, LockModule, AutomationModule, EventsModule],
    };
  }
}
