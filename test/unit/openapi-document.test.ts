import { Controller, Get, Logger, Module } from '@nestjs/common';
import { InitializeOnPreviewAllowlist, NestFactory, RouterModule } from '@nestjs/core';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { buildPgBackupDocument } from '../../src/openapi/openapi';
import { openApiJson } from '../../src/openapi/write-openapi';
import { PgBackupModule } from '../../src/pg-backup.module';

// Each app built here registers the module's data source name again, and TypeORM warns of it; no data source is ever made.
Logger.overrideLogger(false);

/** The repository's openapi.json, seen from this test compiled into <outDir>/test/unit. */
const COMMITTED = join(__dirname, '..', '..', '..', 'openapi.json');

@Controller('shop/orders')
class OrdersController {
  @Get()
  list(): string[] {
    return [];
  }
}

/** A host app embedding the module on paths of its own, behind a global prefix. */
@Module({
  imports: [
    PgBackupModule.forRoot({
      databaseUrl: 'postgres://host@127.0.0.1/shop',
      schema: 'backup_admin',
      backupDir: '/nonexistent',
      auth: { secret: 'unused-0123456789abcdef', adminRoles: ['admin'] },
      minFreeBytes: 0,
      restoreGraceMs: 0,
      path: 'ops/backup',
      healthPath: false,
      metricsPath: 'internal/metrics',
    }),
  ],
  controllers: [OrdersController],
})
class HostModule {}

describe('openapi.json', () => {
  it('is what `npm run openapi` writes now, byte for byte, without a database', async () => {
    const generated = await openApiJson();
    assert.equal(readFileSync(COMMITTED, 'utf8'), generated, 'openapi.json is stale: run `npm run openapi`');
  });

  it('carries the admin prefix on every admin path, in a stable order', async () => {
    const doc = JSON.parse(await openApiJson());
    const paths = Object.keys(doc.paths);
    assert.ok(paths.includes('/api/admin/backups/{id}/restore'));
    assert.ok(paths.every((path) => /^\/(api\/admin|health|metrics)(\/|$)/.test(path)), paths.join(', '));
    assert.equal(await openApiJson(), await openApiJson());
  });
});

describe('buildPgBackupDocument in a host app', () => {
  it("documents the module's routes where the host mounted them, and none of the host's own", async () => {
    InitializeOnPreviewAllowlist.add(RouterModule);
    const app = await NestFactory.create(HostModule, { preview: true, logger: false, abortOnError: false });
    try {
      app.setGlobalPrefix('v1');
      const paths = Object.keys(buildPgBackupDocument(app).paths);
      assert.ok(paths.includes('/v1/ops/backup/backups/{id}/restore'), paths.join(', '));
      assert.ok(paths.includes('/v1/internal/metrics'));
      assert.deepEqual(
        paths.filter((path) => !path.startsWith('/v1/ops/backup/')),
        ['/v1/internal/metrics'],
        'no health routes (healthPath: false), no host routes, no page',
      );
    } finally {
      await app.close();
    }
  });
});
