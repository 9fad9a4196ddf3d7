import 'reflect-metadata';
import { ConsoleLogger } from '@nestjs/common';
import { NestFactory, InitializeOnPreviewAllowlist, RouterModule } from '@nestjs/core';
import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { AppModule } from '../app.module';
import { PgBackupOptions } from '../pg-backup.options';
import { buildPgBackupDocument } from './openapi';

/**
 * `npm run openapi`: writes the standalone server's OpenAPI document to `openapi.json` (or the
 * path given), without a database. Nest's preview mode resolves the module graph without
 * running a provider (so nothing connects); RouterModule alone is let run, since it is what
 * puts `api/admin` in front of the feature modules' routes.
 */
export async function openApiJson(): Promise<string> {
  InitializeOnPreviewAllowlist.add(RouterModule);
  // never read: no provider runs in preview mode
  const options: PgBackupOptions = {
    databaseUrl: 'postgres://openapi@127.0.0.1/openapi',
    schema: 'backup_admin',
    backupDir: '/nonexistent',
    auth: { secret: 'openapi-document-only', adminRoles: ['admin'] },
    minFreeBytes: 0,
    restoreGraceMs: 0,
  };
  const app = await NestFactory.create(AppModule.register(options), { preview: true, logger: false, abortOnError: false });
  try {
    return `${JSON.stringify(buildPgBackupDocument(app), null, 2)}\n`;
  } finally {
    await app.close();
  }
}

if (require.main === module) {
  // its own instance: preview mode's `logger: false` silences the shared Logger
  const logger = new ConsoleLogger('openapi');
  const target = resolve(process.argv[2] ?? 'openapi.json');
  openApiJson()
    .then((json) => {
      writeFileSync(target, json);
      logger.log(`wrote ${target}`);
    })
    .catch((error: Error) => {
      logger.error(error.stack ?? error.message);
      process.exit(1);
    });
}
