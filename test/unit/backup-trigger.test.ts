import 'reflect-metadata';
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it, mock } from 'node:test';
import { EventEmitter2 } from '@nestjs/event-emitter';
import { BackupTrigger } from '../../src/automation/backup-trigger';
import { BackupService } from '../../src/backup/backup.service';
import { BackupOrigin, BackupType } from '../../src/backup/backup.types';
import { OperationInProgressException } from '../../src/common/exceptions';
import { PgBackupOptions } from '../../src/pg-backup.options';

const DEBOUNCE = 1000;
const MAX_WAIT = 5000;

function harness(runNow: (origin: BackupOrigin) => Promise<unknown> = async () => ({}), emitter?: EventEmitter2) {
  const calls: { type: BackupType; origin: BackupOrigin; notes?: string }[] = [];
  const backups = {
    runNow: mock.fn(async (_actor: string, dto: { notes?: string }, type: BackupType, origin: BackupOrigin) => {
      calls.push({ type, origin: structuredClone(origin), notes: dto.notes });
      return runNow(origin);
    }),
  };
  const options = { trigger: { debounceMs: DEBOUNCE, maxWaitMs: MAX_WAIT } } as PgBackupOptions;
  const trigger = new BackupTrigger(backups as unknown as BackupService, options, emitter);
  trigger.onModuleInit();
  return { trigger, backups, calls };
}

/** Lets the promise chain started by a fired timer run. */
const settle = () => new Promise((resolve) => setImmediate(resolve));

describe('BackupTrigger', () => {
  beforeEach(() => mock.timers.enable({ apis: ['setTimeout', 'Date'] }));
  afterEach(() => mock.timers.reset());

  it('coalesces a burst into one event backup that counts the reasons', async () => {
    const h = harness();
    for (let i = 0; i < 500; i++) h.trigger.request({ reason: i % 5 ? 'role_creation' : 'import', detail: { userId: i } });
    mock.timers.tick(DEBOUNCE - 1);
    await settle();
    assert.equal(h.backups.runNow.mock.callCount(), 0, 'not before the quiet time has passed');

    mock.timers.tick(1);
    await settle();
    assert.equal(h.calls.length, 1);
    assert.equal(h.calls[0].type, BackupType.Event);
    const summary = h.calls[0].origin.trigger!;
    assert.equal(summary.requests, 500);
    assert.deepEqual(summary.reasons, { role_creation: 400, import: 100 });
    assert.equal(summary.details.length, 20, 'only the first details are kept');
    assert.match(h.calls[0].notes!, /role_creation ×400/);
    assert.match(h.calls[0].notes!, /import ×100/);
  });

  it('each request restarts the quiet time, but a steady stream still gets a backup after maxWaitMs', async () => {
    const h = harness();
    for (let elapsed = 0; elapsed < MAX_WAIT; elapsed += DEBOUNCE / 2) {
      h.trigger.request({ reason: 'tick' });
      mock.timers.tick(DEBOUNCE / 2);
      await settle();
      if (elapsed + DEBOUNCE / 2 < MAX_WAIT) assert.equal(h.calls.length, 0, `no backup at ${elapsed} ms`);
    }
    assert.equal(h.calls.length, 1, 'started at maxWaitMs after the first request');
    assert.equal(h.calls[0].origin.trigger!.requests, 10);
  });

  it('keeps the batch when another operation holds the lock and retries it, merged with later requests', async () => {
    let busy = true;
    const h = harness(async () => {
      if (busy) throw new OperationInProgressException('backup x started by bob');
      return {};
    });
    h.trigger.request({ reason: 'first' });
    mock.timers.tick(DEBOUNCE);
    await settle();
    assert.equal(h.calls.length, 1, 'tried once');
    h.trigger.request({ reason: 'second' });
    busy = false;
    mock.timers.tick(DEBOUNCE);
    await settle();
    assert.equal(h.calls.length, 1, 'a busy lock is retried later, not at the next debounce');
    mock.timers.tick(30_000);
    await settle();
    assert.equal(h.calls.length, 2);
    assert.deepEqual(h.calls[1].origin.trigger!.reasons, { first: 1, second: 1 });
  });

  it('never throws to the caller, and a failed backup does not stop the next one', async () => {
    let fail = true;
    const h = harness(async () => {
      if (fail) throw new Error('disk full');
      return {};
    });
    const circular: Record<string, unknown> = {};
    circular.self = circular;
    assert.doesNotThrow(() => h.trigger.request({ reason: 'x', detail: circular }));
    mock.timers.tick(DEBOUNCE);
    await settle();
    assert.equal(h.calls.length, 1);

    fail = false;
    h.trigger.request({ reason: 'y' });
    mock.timers.tick(DEBOUNCE);
    await settle();
    assert.equal(h.calls.length, 2);
    assert.deepEqual(h.calls[1].origin.trigger!.reasons, { y: 1 }, 'the failed batch is not replayed');
  });

  it('listens for pg-backup.trigger on the host app’s EventEmitter2', async () => {
    const emitter = new EventEmitter2();
    const h = harness(undefined, emitter);
    emitter.emit('pg-backup.trigger', { reason: 'role_creation', detail: { role: 'admin' } });
    emitter.emit('pg-backup.trigger');
    mock.timers.tick(DEBOUNCE);
    await settle();
    assert.equal(h.calls.length, 1);
    assert.deepEqual(h.calls[0].origin.trigger!.reasons, { role_creation: 1, event: 1 });
  });

  it('drops pending requests at shutdown instead of starting a backup', async () => {
    const h = harness();
    h.trigger.request({ reason: 'late' });
    h.trigger.onApplicationShutdown();
    mock.timers.tick(DEBOUNCE * 10);
    await settle();
    assert.equal(h.calls.length, 0);
  });
});
