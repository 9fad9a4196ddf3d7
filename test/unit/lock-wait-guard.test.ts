import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { LockWaitGuard, LockWaitTimeoutError } from '../../src/backup/lock-wait-guard';
import { DatabaseInfoRepository, LockBlocker } from '../../src/database/database-info.repository';
import { until } from '../support/net';

const holder: LockBlocker = { pid: 4242, applicationName: 'psql', state: 'idle in transaction', queryStart: '2026-12-02T12:00:00.000Z', waiting: false };
const queued: LockBlocker = { pid: 5151, applicationName: 'migration', state: 'active', queryStart: '2026-12-02T12:00:01.000Z', waiting: true };

function guardOver(blockers: () => LockBlocker[], timeoutMs: number): { guard: LockWaitGuard; polls: () => number } {
  let polls = 0;
  const database = { blockersOf: async () => (polls++, blockers()) } as unknown as DatabaseInfoRepository;
  return { guard: new LockWaitGuard(database, ['nestjs-pg-backup:dump:x'], timeoutMs), polls: () => polls };
}

describe('LockWaitGuard', () => {
  it('fails once the wait outlasts the bound, naming the session that holds the lock (not the one merely queued ahead)', async () => {
    const { guard } = guardOver(() => [queued, holder], 300);
    const error = await guard.exceeded.catch((e: unknown) => e);
    assert.ok(error instanceof LockWaitTimeoutError);
    assert.equal(
      error.message,
      'waited more than 0.3 s for a table lock held by session 4242 (application_name "psql", idle in transaction, query started 2026-12-02T12:00:00.000Z)',
    );
  });

  it('never fails while only sessions that wait themselves are ahead', async () => {
    const { guard, polls } = guardOver(() => [queued], 1);
    let settled = false;
    guard.exceeded.catch(() => (settled = true));
    await until(() => polls() >= 3, 'three polls', { timeoutMs: 10_000 });
    await Promise.resolve(); // a rejection after the third poll would be seen by now
    guard.stop();
    assert.equal(settled, false);
  });
});
