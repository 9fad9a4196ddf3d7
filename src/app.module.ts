import { DynamicModule, Module } from '@nestjs/common';
import { EventEmitterModule } from '@nestjs/event-emitter';
import { ExampleAccountsModule } from './example/example-accounts.module';
import { PgBackupModule } from './pg-backup.module';
import { PgBackupModuleAsyncOptions, PgBackupOptions } from './pg-backup.options';

/** The standalone server: the module on its default routes; `example` adds the demo accounts feature (src/example). */
@Module({})
export class AppModule {
  static register(
    options: PgBackupOptions & Pick<PgBackupModuleAsyncOptions, 'healthPath' | 'metricsPath' | 'uiPath'>,
    { example = false }: { example?: boolean } = {},
  ): DynamicModule {
    const demo = example ? [EventEmitterModule.forRoot(), ExampleAccountsModule] : [];
    return { module: AppModule, imports: [PgBackupModule.forRoot(options), ...demo] };
  }
}
