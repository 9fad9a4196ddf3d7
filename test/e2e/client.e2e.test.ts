import assert from 'node:assert/strict';
import { createHash, randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type * as ClientModule from '../../packages/client/dist/index.js';
import { admin, startApp, TestApp } from '../support/app';
import { blockTable } from '../support/open-transaction';
import { startPostgres, TestPostgres } from '../support/postgres';

// the package is ESM built by its own tsc (npm --prefix packages/client run build); Node 20.19+ requires ESM
const client: typeof ClientModule = require(join(__dirname, '../../../packages/client/dist/index.js'));

/** The next event of a stream, or a failure naming what was awaited after `timeoutMs`. */
async function nextEvent(events: AsyncGenerator<ClientModule.OperationEvent>, what: string, timeoutMs = 20_000) {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`no event (${what}) within ${timeoutMs} ms`)), timeoutMs)));
  try {
    const next = await Promise.race([events.next(), timeout]);
    assert.equal(next.done, false, `the stream ended while waiting for ${what}`);
    return next.value as ClientModule.OperationEvent;
  } finally {
    clearTimeout(timer);
  }
}

describe('@nestjs-pg-backup/client against the server', () => {
  let pg: TestPostgres;
  let server: TestApp;
  let api: ClientModule.PgBackupClient;
  let backup: ClientModule.Backup;

  before(async () => {
    pg = await startPostgres();
    pg.psql('create database shop');
    // with gzip -9, big enough that the dump takes seconds and reports bytes on the way
    pg.psql("create table items (id int primary key, name text); insert into items select g, md5(g::text) || md5((g * 7)::text) from generate_series(1, 500000) g", 'shop');
    server = await startApp(pg.url('shop'), { initialCompression: 'gzip', compressionLevel: 9 });
    api = new client.PgBackupClient({ baseUrl: `${server.base}/`, token: () => admin });
  });

  after(async () => {
    await server?.close();
    pg?.stop();
  });

  it('creates a backup, streams its progress (and resumes after an aborted stream), refuses a second one with LockHeldError, and waits for it', async () => {
    const first = new AbortController();
    const events = api.operationEvents({ signal: first.signal });
    const idle = await nextEvent(events, 'the idle state');
    assert.deepEqual({ locked: idle.locked, operation: idle.operation }, { locked: false, operation: null });
    assert.match(idle.eventId, /^\d+$/, 'Nest numbers the events of a stream');

    const blocker = await blockTable(pg.url('shop'), 'items');
    let blocked = true;
    try {
      const started = await api.createBackup({ notes: 'from the client' });
      assert.equal(started.status, 'running');
      const running = await nextEvent(events, 'the running backup');
      assert.equal(running.locked, true);
      assert.equal(running.operation?.id, started.id);

      await assert.rejects(api.createBackup({ notes: 'second' }), (error: unknown) => {
        assert.ok(error instanceof client.LockHeldError, `a LockHeldError, not ${String(error)}`);
        assert.equal(error.status, 409);
        assert.match(error.message, /another backup or restore is running/);
        return true;
      });
      assert.equal((await api.listBackups()).total, 1, 'the refused backup left no record');

      // the panel's tab slept: the stream is aborted, a new one resumes from the last id with the current state
      first.abort();
      assert.equal((await events.next()).done, true, 'an aborted stream ends quietly');
      assert.notEqual(running.eventId, idle.eventId);
      const resumed = api.operationEvents({ lastEventId: running.eventId });
      const again = await nextEvent(resumed, 'the current state after reconnecting');
      assert.equal(again.operation?.id, started.id);

      await blocker.end();
      blocked = false;
      let withBytes: ClientModule.OperationEvent | undefined;
      for (let event = again; event.locked; event = await nextEvent(resumed, 'progress or the end')) {
        if ((event.operation?.bytesDone ?? 0) > 0) withBytes ??= event;
      }
      await resumed.return(undefined);
      assert.ok(withBytes, 'at least one progress event carried bytes');

      backup = await api.waitForBackup(started.id, { intervalMs: 200, timeoutMs: 120_000 });
      assert.equal(backup.status, 'completed');
      const page = await api.listBackups({ status: 'completed' });
      assert.deepEqual(page.items.map((b) => b.id), [backup.id]);
    } finally {
      if (blocked) await blocker.end();
    }
  });

  it('downloads the backup as a stream with the token: the same SHA-256 as the server recorded; verifies it', async () => {
    const download = await api.download(backup.id);
    assert.equal(download.size, backup.sizeBytes);
    assert.equal(download.fileName, backup.filename);
    const hash = createHash('sha256');
    for await (const chunk of download.stream as unknown as AsyncIterable<Uint8Array>) hash.update(chunk);
    assert.equal(hash.digest('hex'), backup.sha256);

    const report = await api.verifyBackup(backup.id);
    assert.equal(report.valid, true);
  });

  it('previews a restore (dry run, 200) and changes nothing', async () => {
    const preview = await api.restoreBackup(backup.id, { dryRun: true });
    assert.equal(preview.backupId, backup.id);
    assert.ok(preview.tables.some((t) => t.name.endsWith('items')), JSON.stringify(preview.tables));
    assert.equal((await api.listRestores()).total, 0, 'a dry run records no restore');
    assert.deepEqual(await api.currentOperation(), { locked: false, operation: null });
  });

  it('throws typed errors carrying the server message: 404, 401, 400', async () => {
    const missing = randomUUID();
    await assert.rejects(api.getBackup(missing), (error: unknown) => {
      assert.ok(error instanceof client.NotFoundError);
      assert.equal(error.status, 404);
      assert.equal(error.message, `backup ${missing} not found`);
      return true;
    });

    const stranger = new client.PgBackupClient({ baseUrl: server.base, token: 'not-a-jwt' });
    await assert.rejects(stranger.listBackups(), (error: unknown) => error instanceof client.UnauthorizedError && error.status === 401);
    await assert.rejects(stranger.operationEvents().next(), (error: unknown) => error instanceof client.UnauthorizedError);

    // the types demand `confirm`; a JavaScript caller may still forget it
    await assert.rejects(api.restoreBackup(backup.id, {} as ClientModule.RestoreRequest), (error: unknown) => {
      assert.ok(error instanceof client.ApiError && !(error instanceof client.NotFoundError));
      assert.equal(error.status, 400);
      assert.match(error.message, /confirm/);
      return true;
    });
    assert.equal((await api.listRestores()).total, 0, 'nothing was restored');
    assert.deepEqual(await api.currentOperation(), { locked: false, operation: null }, 'the lock is free');
  });
});
