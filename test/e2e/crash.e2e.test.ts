import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { admin, TEST_SECRET } from '../support/app';
import { freePort, sleep, until } from '../support/net';
import { startPostgres, TestPostgres } from '../support/postgres';
import { startServerProcess } from '../support/server-process';

const PASSWORD = 'pw-Xy7!never-in-argv';

async function api(base: string, method: string, path: string, body?: unknown) {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: { authorization: `Bearer ${admin}`, ...(body ? { 'content-type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  return { status: res.status, json: (await res.json().catch(() => undefined)) as any };
}

/** Every process's argv on this machine, as `ps` would show it. */
function allCommandLines(): string[] {
  return readdirSync('/proc')
    .filter((p) => /^\d+$/.test(p))
    .map((pid) => {
      try {
        return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
      } catch {
        return '';
      }
    });
}

describe('a server killed mid-backup or mid-restore', () => {
  let pg: TestPostgres;
  let backupDir: string;
  let env: Record<string, string>;

  before(async () => {
    pg = await startPostgres({ password: PASSWORD });
    pg.psql('create database big');
    pg.psql(`create table events (id bigint primary key, payload text);
      insert into events select g, md5(g::text) || md5((g * 7)::text) || md5((g * 13)::text) from generate_series(1, 1500000) g;`, 'big');
    backupDir = mkdtempSync(join(tmpdir(), 'pgb-crash-'));
    env = { DATABASE_URL: pg.url('big'), PORT: String(await freePort()), BACKUP_DIR: backupDir, JWT_SECRET: TEST_SECRET };
  });

  after(() => pg?.stop());

  it('never shows the password in any argv, then after SIGKILL and restart: entry failed, lock free, no partial file', async () => {
    const server = await startServerProcess(env);
    const started = await api(server.base, 'POST', '/backups', {});
    assert.equal(started.status, 202);

    let sawDump = false;
    const deadline = Date.now() + 30_000;
    let partial: string | undefined;
    while (Date.now() < deadline) {
      const lines = allCommandLines();
      assert.ok(!lines.some((l) => l.includes(PASSWORD)), 'the database password appears in a process argv');
      sawDump ||= lines.some((l) => l.includes('pg_dump') && l.includes('--dbname='));
      partial = readdirSync(backupDir).find((f) => f.endsWith('.partial'));
      if (sawDump && partial && statSync(join(backupDir, partial)).size > 1_000_000) break;
      await sleep(20);
    }
    assert.ok(sawDump, 'pg_dump was seen running (so the argv check looked at it)');
    assert.ok(partial, 'a partial file was being written');
    let progress = await api(server.base, 'GET', '/operations/current');
    assert.equal(progress.json.locked, true);
    await until(async () => {
      progress = await api(server.base, 'GET', '/operations/current');
      return progress.json.operation?.bytesDone > 0;
    }, 'the backup to report its bytes', { timeoutMs: 10_000, pollMs: 100 });

    server.kill('SIGKILL');
    await server.exited();
    assert.ok(!readdirSync(backupDir).some((f) => f.endsWith('.dump')), 'nothing that looks complete was left');

    const restarted = await startServerProcess(env);
    try {
      const entry = await api(restarted.base, 'GET', `/backups/${started.json.id}`);
      assert.equal(entry.json.status, 'failed');
      assert.match(entry.json.error, /interrupted/);
      assert.equal(existsSync(join(backupDir, partial!)), false, 'partial file removed');
      assert.equal((await api(restarted.base, 'GET', '/operations/current')).json.locked, false);
      const again = await api(restarted.base, 'POST', '/backups', {});
      assert.equal(again.status, 202);
      const deadline2 = Date.now() + 120_000;
      let done = again.json;
      while (done.status === 'running' && Date.now() < deadline2) {
        await sleep(300);
        done = (await api(restarted.base, 'GET', `/backups/${again.json.id}`)).json;
      }
      assert.equal(done.status, 'completed');
    } finally {
      restarted.kill('SIGTERM');
      assert.equal(await restarted.exited(), 0, 'SIGTERM stops the server cleanly');
    }
  });

  it('on SIGTERM mid-backup, marks the backup failed, removes the partial file and releases the lock', async () => {
    const server = await startServerProcess(env);
    const started = await api(server.base, 'POST', '/backups', {});
    assert.equal(started.status, 202);
    await sleep(300);
    server.kill('SIGTERM');
    assert.equal(await server.exited(), 0);
    assert.equal(pg.psql(`select status from backup_admin.backup_history where id = '${started.json.id}'`, 'big'), 'failed');
    assert.match(pg.psql(`select error from backup_admin.backup_history where id = '${started.json.id}'`, 'big'), /shutting down/);
    assert.ok(!readdirSync(backupDir).some((f) => f.includes(started.json.id.slice(0, 8))));
    assert.equal(pg.psql(`select count(*) from pg_locks where locktype = 'advisory'`, 'big'), '0');
  });

  it('after a SIGKILL mid-restore, the database is as it was: psql cannot pass the commit gate without its server', async () => {
    const server = await startServerProcess(env);
    let restarted: Awaited<ReturnType<typeof startServerProcess>> | undefined;
    try {
      const created = await api(server.base, 'POST', '/backups', {});
      let backup = created.json;
      for (const deadline = Date.now() + 120_000; backup.status === 'running' && Date.now() < deadline; ) {
        await sleep(200);
        backup = (await api(server.base, 'GET', `/backups/${created.json.id}`)).json;
      }
      assert.equal(backup.status, 'completed', backup.error);
      assert.equal(backup.metadata.largeObjects, 0, 'the direct path: pg_restore writes into psql, Node holds only the gate');
      pg.psql('delete from events where id <= 1000; create table made_after (x int)', 'big');

      const restore = await api(server.base, 'POST', `/backups/${backup.id}/restore`, { confirm: true, safetyBackup: false });
      assert.equal(restore.status, 202);
      const restoring = () => pg.psql(`select count(*) from pg_stat_activity where application_name like 'nestjs-pg-backup:restore:%'`, 'big');
      const copying = () => pg.psql(`select count(*) from pg_stat_activity where application_name like 'nestjs-pg-backup:restore:%' and query like 'COPY%'`, 'big');
      for (const deadline = Date.now() + 30_000; copying() === '0' && Date.now() < deadline; ) await sleep(20);
      assert.equal(copying(), '1', "psql's session was loading the dump");
      server.kill('SIGKILL');
      await server.exited();

      // orphaned, zstd and pg_restore end on the cut input; psql reaches the gate, finds it open-handed and fails
      for (const deadline = Date.now() + 60_000; restoring() !== '0' && Date.now() < deadline; ) await sleep(100);
      assert.equal(restoring(), '0', 'the restore session ended');
      assert.equal(pg.psql('select count(*) from events', 'big'), String(1_500_000 - 1000), 'rows deleted after the backup are still deleted');
      assert.equal(pg.psql(`select to_regclass('made_after') is not null`, 'big'), 't', 'a table made after the backup is still there');

      restarted = await startServerProcess(env);
      const entry = (await api(restarted.base, 'GET', `/restores/${restore.json.id}`)).json;
      assert.equal(entry.status, 'failed');
      assert.equal((await api(restarted.base, 'GET', '/operations/current')).json.locked, false);
    } finally {
      if (server.child.exitCode === null) server.kill('SIGKILL');
      restarted?.kill('SIGTERM');
      await restarted?.exited();
      pg.psql('drop table if exists made_after', 'big');
    }
  });

  it('refuses to start on a bad environment value, naming the variable', async () => {
    for (const [name, value] of [['PORT', 'eighty'], ['DATABASE_URL', 'mysql://x'], ['BACKUP_SCHEDULE', 'every day please'], ['JWT_SECRET', 'short']]) {
      const server = await startServerProcess({ ...env, [name]: value }, { waitReady: false });
      assert.equal(await server.exited(), 1);
      assert.match(server.output(), new RegExp(name));
    }
  });
});
