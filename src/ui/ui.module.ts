import { DynamicModule, Module } from '@nestjs/common';
import { UiAssets } from './ui-assets';
import { UiController } from './ui.controller';
import { PG_BACKUP_UI_OPTIONS, UiOptions } from './ui.options';

const trimSlashes = (path: string) => path.replace(/^\/+|\/+$/g, '');

/** The browser admin page, mounted by PgBackupModule at `uiPath`. */
@Module({})
export class UiModule {
  static register(options: UiOptions): DynamicModule {
    const value: UiOptions = { uiPath: trimSlashes(options.uiPath), apiPath: trimSlashes(options.apiPath) };
    return {
      module: UiModule,
      controllers: [UiController],
      providers: [UiAssets, { provide: PG_BACKUP_UI_OPTIONS, useValue: value }],
    };
  }
}
