import { DynamicModule, Module } from '@nestjs/common';
import { PgBackupModule } from './pg-backup.module';
import { PgBackupModuleAsyncOptions, PgBackupOptions } from './pg-backup.options';

/** The standalone server: the module alone, on its default routes. */
@Module({})
export class AppModule {
  static register(options: PgBackupOptions & Pick<PgBackupModuleAsyncOptions, 'healthPath' | 'metricsPath'>): DynamicModule {
    return { module: AppModule, imports: [PgBackupModule.forRoot(options)] };
  }
}
