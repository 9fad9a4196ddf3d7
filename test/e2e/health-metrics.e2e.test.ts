import assert from 'node:assert/strict';
import { NestFactory } from '@nestjs/core';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { networkInterfaces, tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { AppModule } from '../../src/app.module';
import { PgBackupModuleAsyncOptions, PgBackupOptions } from '../../src/pg-backup.options';
import { admin, startApp, TEST_SECRET, TestApp } from '../support/app';
import { startPostgres, TestPostgres } from '../support/postgres';

const METRICS_TOKEN = 'metrics-token-0123456789';
const DRILL = (ok: boolean) => JSON.stringify({ at: new Date().toISOString(), ok, durationMs: 800, restoreMs: 600, database: 'drill_scratch', tables: [] });

/** startApp's overrides, plus the two routes that forRoot takes beside the options. */
type Overrides = Partial<PgBackupOptions> & Pick<PgBackupModuleAsyncOptions, 'healthPath' | 'metricsPath'>;

interface Reply {
  status: number;
  text: string;
  json: any;
  headers: Headers;
}

/** GET on the server root (not the admin prefix). */
async function get(server: TestApp, path: string, authorization?: string): Promise<Reply> {
  const root = server.base.replace(/\/api\/admin$/, '');
  const res = await fetch(`${root}${path}`, { headers: authorization ? { authorization } : {} });
  const text = await res.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, text, json, headers: res.headers };
}

/** An IPv4 address of this machine that is not loopback, to be a remote client of a server on 0.0.0.0. */
const REMOTE_ADDRESS = Object.values(networkInterfaces()).flat().find((i) => i?.family === 'IPv4' && !i.internal)?.address;

/** /metrics status from loopback and from REMOTE_ADDRESS, of a server listening on every interface. */
async function metricsFromBothSides(databaseUrl: string, metrics: PgBackupOptions['metrics']): Promise<{ loopback: number; remote: number }> {
  const options: PgBackupOptions = {
    databaseUrl,
    schema: 'backup_admin',
    backupDir: mkdtempSync(join(tmpdir(), 'pgb-test-backups-')),
    auth: { secret: TEST_SECRET, adminRoles: ['admin'] },
    minFreeBytes: 1024 * 1024,
    restoreGraceMs: 1000,
    metrics,
  };
  const app = await NestFactory.create(AppModule.register(options), { logger: false });
  await app.listen(0, '0.0.0.0');
  try {
    const { port } = app.getHttpServer().address() as { port: number };
    const loopback = (await fetch(`http://127.0.0.1:${port}/metrics`)).status;
    const remote = (await fetch(`http://${REMOTE_ADDRESS}:${port}/metrics`)).status;
    return { loopback, remote };
  } finally {
    await app.close();
  }
}

/** The value of one sample line of a scrape; undefined when absent. */
function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

describe('health and metrics routes on a real database', () => {
  let pg: TestPostgres;
  let plain: TestApp;
  let strict: TestApp;

  before(async () => {
    pg = await startPostgres();
    for (const db of ['plain', 'shop']) {
      pg.psql(`create database ${db}`);
      pg.psql('create table items (id serial primary key, name text); insert into items (name) select md5(g::text) from generate_series(1, 500) g;', db);
    }
    // every check below changes what ready sees and asks again at once: no cached answer
    plain = await startApp(pg.url('plain'), { health: { readyCacheMs: 0 } });
    strict = await startApp(pg.url('shop'), { health: { maxBackupAgeHours: 1, readyCacheMs: 0 }, metrics: { token: METRICS_TOKEN } });
  });

  after(async () => {
    await plain?.close();
    await strict?.close();
    pg?.stop();
  });

  describe('defaults', () => {
    it('live answers 200 in the terminus shape, without a token', async () => {
      const r = await get(plain, '/health/live');
      assert.equal(r.status, 200);
      assert.equal(r.json.status, 'ok');
      assert.equal(r.headers.get('cache-control'), 'no-cache, no-store, must-revalidate');
    });

    it('ready answers 200 on a fresh app when no backup age is required, and names no secret', async () => {
      const r = await get(plain, '/health/ready');
      assert.equal(r.status, 200, r.text);
      assert.equal(r.json.status, 'ok');
      assert.deepEqual(Object.keys(r.json.details).sort(), ['backup_dir', 'database', 'last_drill']);
      assert.ok(Object.values(r.json.details).every((d: any) => d.status === 'up'));
      assert.ok(!r.text.includes(plain.backupDir), 'no path');
      assert.ok(!r.text.includes('postgres://'), 'no database URL');
    });

    it('ready is 503 naming backup_dir when the backup directory cannot take a file, and 200 again once it can', async () => {
      rmSync(plain.backupDir, { recursive: true, force: true });
      writeFileSync(plain.backupDir, 'a file where the directory should be');
      try {
        const r = await get(plain, '/health/ready');
        assert.equal(r.status, 503, r.text);
        assert.equal(r.json.status, 'error');
        assert.deepEqual(Object.keys(r.json.error), ['backup_dir']);
        assert.match(r.json.error.backup_dir.message, /not writable \(EEXIST\)/);
        assert.ok(!r.text.includes(plain.backupDir), 'no path in the public answer');
        assert.equal(r.json.details.database.status, 'up');
      } finally {
        rmSync(plain.backupDir, { force: true });
        mkdirSync(plain.backupDir, { mode: 0o700 });
      }
      assert.equal((await get(plain, '/health/ready')).status, 200);
    });

    it('metrics answer a loopback client without a configured token: text format, own prefix, process metrics included', async () => {
      const r = await get(plain, '/metrics');
      assert.equal(r.status, 200, r.text);
      assert.equal(r.headers.get('content-type'), 'text/plain; version=0.0.4; charset=utf-8');
      assert.equal(sample(r.text, 'pg_backup_lock_held'), 0);
      assert.equal(sample(r.text, 'pg_backup_bytes_in_flight'), 0);
      assert.equal(sample(r.text, 'pg_backup_backups_stored{status="completed"}'), 0);
      assert.equal(sample(r.text, 'pg_backup_last_backup_success_timestamp_seconds'), undefined, 'no backup yet');
      assert.equal(sample(r.text, 'pg_backup_last_drill_ok'), undefined, 'no drill yet');
      assert.ok(sample(r.text, 'pg_backup_process_cpu_user_seconds_total')! >= 0);
      assert.doesNotMatch(r.text, /^process_/m, 'nothing outside the prefix');
    });

    it('metrics without a token answer loopback clients only (403 from another address)', { skip: !REMOTE_ADDRESS && 'no non-loopback IPv4 address here' }, async () => {
      assert.deepEqual(await metricsFromBothSides(pg.url('plain'), undefined), { loopback: 200, remote: 403 });
    });

    it('metrics.public opens them to every address', { skip: !REMOTE_ADDRESS && 'no non-loopback IPv4 address here' }, async () => {
      assert.deepEqual(await metricsFromBothSides(pg.url('plain'), { public: true }), { loopback: 200, remote: 200 });
    });

    it('neither route sits under the admin prefix, and the admin API still wants its token', async () => {
      assert.equal((await get(plain, '/api/admin/health/live')).status, 404);
      assert.equal((await get(plain, '/api/admin/metrics')).status, 404);
      assert.equal((await plain.request('GET', '/backups')).status, 401);
    });
  });

  describe('with maxBackupAgeHours and a metrics token', () => {
    const bearer = `Bearer ${METRICS_TOKEN}`;

    it('metrics refuse a missing or wrong token (401) and answer the right one', async () => {
      assert.equal((await get(strict, '/metrics')).status, 401);
      assert.equal((await get(strict, '/metrics', 'Bearer wrong-token-0123456789')).status, 401);
      assert.equal((await get(strict, '/metrics', `Bearer ${METRICS_TOKEN}x`)).status, 401);
      assert.equal((await get(strict, '/metrics', `Basic ${Buffer.from(`x:${METRICS_TOKEN}`).toString('base64')}`)).status, 401);
      assert.equal((await get(strict, '/metrics', `Bearer ${admin}`)).status, 401, 'an admin JWT is not the metrics token');
      assert.equal((await get(strict, '/metrics', bearer)).status, 200);
    });

    it('ready is 503 naming last_backup before any backup', async () => {
      const r = await get(strict, '/health/ready');
      assert.equal(r.status, 503, r.text);
      assert.deepEqual(Object.keys(r.json.error), ['last_backup']);
      assert.match(r.json.error.last_backup.message, /no completed backup/);
    });

    it('after a backup: ready 200, the counter at 1 and the success timestamp near now', async () => {
      const backup = await strict.createBackup();
      assert.equal(backup.status, 'completed', JSON.stringify(backup));
      const ready = await get(strict, '/health/ready');
      assert.equal(ready.status, 200, ready.text);
      assert.equal(ready.json.details.last_backup.status, 'up');

      const m = await get(strict, '/metrics', bearer);
      assert.equal(sample(m.text, 'pg_backup_backups_total{type="manual",outcome="completed"}'), 1);
      assert.equal(sample(m.text, 'pg_backup_backups_total{type="manual",outcome="failed"}'), 0);
      const at = sample(m.text, 'pg_backup_last_backup_success_timestamp_seconds')!;
      assert.ok(Math.abs(at - Date.now() / 1000) < 120, `timestamp ${at} near now`);
      assert.equal(sample(m.text, 'pg_backup_backups_stored{status="completed"}'), 1);
      assert.equal(sample(m.text, 'pg_backup_backups_stored_bytes'), backup.sizeBytes);
      assert.equal(sample(m.text, 'pg_backup_backup_duration_seconds_count'), 1);
      assert.equal(sample(m.text, 'pg_backup_backup_size_bytes_sum'), backup.sizeBytes);
      assert.equal(sample(m.text, 'pg_backup_lock_held'), 0);
    });

    it('ready is 503 again once the newest completed backup is older than allowed', async () => {
      pg.psql(`UPDATE backup_admin.backup_history SET finished_at = now() - interval '2 hours'`, 'shop');
      try {
        const r = await get(strict, '/health/ready');
        assert.equal(r.status, 503, r.text);
        assert.deepEqual(Object.keys(r.json.error), ['last_backup']);
        assert.match(r.json.error.last_backup.message, /2\.0 h old, over the 1 h allowed/);
        const m = await get(strict, '/metrics', bearer);
        const at = sample(m.text, 'pg_backup_last_backup_success_timestamp_seconds')!;
        assert.ok(Math.abs(Date.now() / 1000 - 7200 - at) < 120, 'the gauge reads the database, not the event');
      } finally {
        pg.psql(`UPDATE backup_admin.backup_history SET finished_at = now()`, 'shop');
      }
      assert.equal((await get(strict, '/health/ready')).status, 200);
    });

    it('a failed last drill makes ready 503 naming last_drill, and sets last_drill_ok to 0; a good one clears it', async () => {
      const newest = `(SELECT id FROM backup_admin.backup_history ORDER BY created_at DESC LIMIT 1)`;
      pg.psql(`UPDATE backup_admin.backup_history SET drill = '${DRILL(false)}'::jsonb WHERE id = ${newest}`, 'shop');
      const r = await get(strict, '/health/ready');
      assert.equal(r.status, 503, r.text);
      assert.deepEqual(Object.keys(r.json.error), ['last_drill']);
      assert.match(r.json.error.last_drill.message, /last restore drill .* failed/);
      assert.equal(sample((await get(strict, '/metrics', bearer)).text, 'pg_backup_last_drill_ok'), 0);

      pg.psql(`UPDATE backup_admin.backup_history SET drill = '${DRILL(true)}'::jsonb WHERE id = ${newest}`, 'shop');
      assert.equal((await get(strict, '/health/ready')).status, 200);
      assert.equal(sample((await get(strict, '/metrics', bearer)).text, 'pg_backup_last_drill_ok'), 1);
    });
  });

  describe('route options', () => {
    it('healthPath and metricsPath move the routes; false mounts none (404)', async () => {
      const healthOff: Overrides = { healthPath: false, metricsPath: 'internal/metrics' };
      const metricsOff: Overrides = { healthPath: 'probe', metricsPath: false };
      const a = await startApp(pg.url('plain'), healthOff);
      const b = await startApp(pg.url('plain'), metricsOff);
      try {
        assert.equal((await get(a, '/health/live')).status, 404);
        assert.equal((await get(a, '/health/ready')).status, 404);
        assert.equal((await get(a, '/metrics')).status, 404);
        assert.equal((await get(a, '/internal/metrics')).status, 200);

        assert.equal((await get(b, '/metrics')).status, 404);
        assert.equal((await get(b, '/health/live')).status, 404);
        assert.equal((await get(b, '/probe/live')).status, 200);
        assert.equal((await get(b, '/probe/ready')).status, 200);
      } finally {
        await a.close();
        await b.close();
      }
    });

    it('ready is 503 naming backup_dir when free space is below minFreeBytes', async () => {
      const server = await startApp(pg.url('plain'), { minFreeBytes: Number.MAX_SAFE_INTEGER });
      try {
        const r = await get(server, '/health/ready');
        assert.equal(r.status, 503, r.text);
        assert.deepEqual(Object.keys(r.json.error), ['backup_dir']);
        assert.match(r.json.error.backup_dir.message, /bytes free, below the \d+ a backup needs/);
      } finally {
        await server.close();
      }
    });
  });
});
