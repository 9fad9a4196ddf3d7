import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { backupsToDelete, RetentionCandidate, retentionPlan } from '../../src/backup/retention';
import { RetentionPolicy } from '../../src/settings/backup-config.entity';

const NONE: RetentionPolicy = { keepLast: 0, maxAgeDays: 0, daily: 0, weekly: 0, monthly: 0 };

function backups(spec: Record<string, string>): RetentionCandidate[] {
  return Object.entries(spec).map(([id, iso]) => ({ id, createdAt: new Date(iso) }));
}

/** Order-insensitive: which ids the policy removes. */
function deleted(list: RetentionCandidate[], policy: Partial<RetentionPolicy>, now?: Date): string[] {
  return backupsToDelete(list, { ...NONE, ...policy }, now).sort();
}

describe('backupsToDelete', () => {
  it('keepLast alone keeps exactly the newest N, whatever order the input is in', () => {
    const list = backups({
      b3: '2025-03-10T03:00:00Z',
      b1: '2025-03-10T01:00:00Z',
      b6: '2025-03-10T06:00:00Z',
      b2: '2025-03-10T02:00:00Z',
      b5: '2025-03-10T05:00:00Z',
      b4: '2025-03-10T04:00:00Z',
    });
    assert.deepEqual(deleted(list, { keepLast: 3 }), ['b1', 'b2', 'b3']);
    assert.deepEqual(deleted(list, { keepLast: 6 }), []);
    assert.deepEqual(deleted(list, { keepLast: 10 }), []);
  });

  it('returns the ids newest first', () => {
    const list = backups({ a: '2025-01-01T00:00:00Z', b: '2025-01-02T00:00:00Z', c: '2025-01-03T00:00:00Z' });
    assert.deepEqual(backupsToDelete(list, { ...NONE, keepLast: 1 }), ['b', 'a']);
  });

  it('daily keeps the newest backup of each of the newest N days (UTC)', () => {
    const list = backups({
      a1: '2025-03-10T08:00:00Z',
      a2: '2025-03-10T20:00:00Z',
      b1: '2025-03-11T09:00:00Z',
      b2: '2025-03-11T18:00:00Z',
      c1: '2025-03-12T10:00:00Z',
      e1: '2025-03-13T07:00:00Z',
      e2: '2025-03-13T12:00:00Z',
      e3: '2025-03-13T23:30:00Z',
      f1: '2025-03-14T06:00:00Z',
    });
    // kept: f1 (newest, and 14th), e3 (13th), c1 (12th)
    assert.deepEqual(deleted(list, { keepLast: 1, daily: 3 }), ['a1', 'a2', 'b1', 'b2', 'e1', 'e2']);
    // a day is a UTC day: 23:30Z and 00:30Z the next day are two days
    const aroundMidnight = backups({ late: '2025-03-13T23:30:00Z', early: '2025-03-14T00:30:00Z', earlier: '2025-03-13T10:00:00Z' });
    assert.deepEqual(deleted(aroundMidnight, { daily: 2 }), ['earlier']);
  });

  it('weekly keeps the newest backup of each of the newest N ISO weeks (Monday to Sunday)', () => {
    const list = backups({
      x1: '2025-03-04T12:00:00Z', // Tue, W10
      x2: '2025-03-08T12:00:00Z', // Sat, W10
      y1: '2025-03-10T12:00:00Z', // Mon, W11
      y2: '2025-03-16T23:00:00Z', // Sun, W11 (last moment of the week)
      z1: '2025-03-17T01:00:00Z', // Mon, W12
      z2: '2025-03-19T12:00:00Z', // Wed, W12
      v1: '2025-03-24T12:00:00Z', // Mon, W13
    });
    // kept: v1 (W13), z2 (W12), y2 (W11)
    assert.deepEqual(deleted(list, { weekly: 3 }), ['x1', 'x2', 'y1', 'z1']);
  });

  it('weekly counts an ISO week that spans the new year as one week', () => {
    const list = backups({
      p1: '2024-12-29T12:00:00Z', // Sun, 2024-W52
      p2: '2024-12-30T12:00:00Z', // Mon, 2025-W1
      p3: '2025-01-02T12:00:00Z', // Thu, 2025-W1
    });
    assert.deepEqual(deleted(list, { weekly: 2 }), ['p2']);
  });

  it('monthly keeps the newest backup of each of the newest N months', () => {
    const list = backups({
      j1: '2025-01-05T00:00:00Z',
      j2: '2025-01-31T23:59:00Z',
      f1: '2025-02-01T00:01:00Z',
      f2: '2025-02-20T00:00:00Z',
      m1: '2025-03-02T00:00:00Z',
    });
    assert.deepEqual(deleted(list, { monthly: 2 }), ['f1', 'j1', 'j2']);
    assert.deepEqual(deleted(list, { monthly: 3 }), ['f1', 'j1']);
  });

  it('daily, weekly and monthly keep the union of their buckets', () => {
    const list = backups({
      jan: '2025-01-15T00:00:00Z',
      febA: '2025-02-10T00:00:00Z',
      febB: '2025-02-26T00:00:00Z', // Wed, W9
      mar1: '2025-03-03T00:00:00Z', // Mon, W10
      mar2: '2025-03-04T00:00:00Z', // Tue, W10
      mar3: '2025-03-05T00:00:00Z', // Wed, W10
    });
    // daily 2: mar3, mar2; weekly 2: mar3 (W10), febB (W9); monthly 2: mar3, febB
    assert.deepEqual(deleted(list, { daily: 2, weekly: 2, monthly: 2 }), ['febA', 'jan', 'mar1']);
  });

  it('maxAgeDays alone removes only what is older than the limit', () => {
    const now = new Date('2025-06-30T00:00:00Z');
    const list = backups({
      fresh: '2025-06-29T00:00:00Z',
      recent: '2025-06-10T00:00:00Z', // 20 days
      edge: '2025-05-31T00:00:00Z', // exactly 30 days: not older than the limit
      old: '2025-05-25T00:00:00Z', // 36 days
      ancient: '2024-01-01T00:00:00Z',
    });
    assert.deepEqual(deleted(list, { maxAgeDays: 30 }, now), ['ancient', 'old']);
  });

  it('maxAgeDays keeps what is younger; a backup kept by any rule stays', () => {
    const now = new Date('2025-06-30T00:00:00Z');
    const list = backups({
      d1: '2025-06-29T00:00:00Z',
      d2: '2025-06-28T00:00:00Z',
      d3: '2025-05-01T00:00:00Z', // 60 days old
    });
    assert.deepEqual(deleted(list, { maxAgeDays: 30 }, now), ['d3']);
    assert.deepEqual(deleted(list, { daily: 3, maxAgeDays: 30 }, now), [], 'the daily rule keeps d3');
    assert.deepEqual(deleted(list, { keepLast: 1, maxAgeDays: 2 }, now), ['d3']);
  });

  it('an all-zero policy deletes nothing', () => {
    const list = backups({ a: '2020-01-01T00:00:00Z', b: '2021-01-01T00:00:00Z', c: '2022-01-01T00:00:00Z' });
    assert.deepEqual(backupsToDelete(list, NONE, new Date('2025-01-01T00:00:00Z')), []);
  });

  it('no backups, nothing to delete', () => {
    assert.deepEqual(backupsToDelete([], { ...NONE, keepLast: 1 }), []);
  });

  it('never deletes the newest backup, even when every backup is past maxAgeDays', () => {
    const now = new Date('2025-06-30T00:00:00Z');
    const list = backups({ a: '2025-01-01T00:00:00Z', newest: '2025-03-01T00:00:00Z', b: '2025-02-01T00:00:00Z' });
    const doomed = deleted(list, { maxAgeDays: 7 }, now);
    assert.deepEqual(doomed, ['a', 'b']);
    assert.ok(!doomed.includes('newest'));
  });

  it('never deletes the newest backup when keepLast is 0 and only older buckets are asked for', () => {
    const list = backups({ old: '2025-01-01T00:00:00Z', newest: '2025-01-01T00:00:01Z' });
    // the newest is pinned whatever the policy: by a bucket here, by the pin alone past maxAgeDays
    assert.deepEqual(deleted(list, { monthly: 1 }), ['old']);
    assert.deepEqual(deleted(list, { keepLast: 0, maxAgeDays: 1 }, new Date('2026-01-01T00:00:00Z')), ['old']);
  });
});

describe('retention with damaged, unreadable and drill-failed backups', () => {
  /** Six hourly backups a1 (oldest) … a6 (newest) on one day, with the given marks. */
  function hourly(marks: Record<string, Partial<RetentionCandidate>> = {}): RetentionCandidate[] {
    return ['a1', 'a2', 'a3', 'a4', 'a5', 'a6'].map((id, i) => ({ id, createdAt: new Date(Date.UTC(2025, 2, 10, i + 1)), ...marks[id] }));
  }
  const bad = { damaged: { damaged: true }, unreadable: { unreadable: true }, drillFailed: { drillFailed: true } } as const;

  for (const [kind, mark] of Object.entries(bad)) {
    it(`keepLast 1 keeps the newest intact backup when the newest are ${kind}`, () => {
      const list = hourly({ a6: mark, a5: mark, a4: mark });
      const doomed = deleted(list, { keepLast: 1 });
      assert.ok(!doomed.includes('a3'), `a3, the newest intact backup, is kept: deleted ${doomed}`);
      assert.deepEqual(doomed, ['a1', 'a2', 'a4', 'a5', 'a6']);
    });

    it(`keepLast counts only intact backups (${kind} ones take no slot)`, () => {
      const list = hourly({ a6: mark, a4: mark });
      assert.deepEqual(deleted(list, { keepLast: 2 }), ['a1', 'a2', 'a4', 'a6']);
    });

    it(`a daily, weekly or monthly bucket is filled by an intact backup when the newest of it is ${kind}`, () => {
      const days = [
        { id: 'd1a', createdAt: new Date('2025-03-10T08:00:00Z') },
        { id: 'd1b', createdAt: new Date('2025-03-10T20:00:00Z'), ...mark },
        { id: 'd2a', createdAt: new Date('2025-03-11T08:00:00Z') },
        { id: 'd2b', createdAt: new Date('2025-03-11T20:00:00Z'), ...mark },
      ];
      for (const rule of ['daily', 'weekly', 'monthly'] as const) {
        const kept = new Set(retentionPlan(days, { ...NONE, [rule]: 2 }).keep.map((k) => k.id));
        assert.ok(kept.has('d2a'), `${rule}: d2a stands for its bucket`);
        assert.ok(!kept.has('d2b') && !kept.has('d1b'), `${rule}: no ${kind} backup is kept by a bucket`);
      }
      assert.deepEqual(deleted(days, { daily: 2 }), ['d1b', 'd2b']);
    });
  }

  it('always keeps the newest verified intact backup as well as the newest intact one, whatever the rules', () => {
    const list = hourly({ a6: bad.damaged, a3: { verified: true }, a2: { verified: true } });
    const plan = retentionPlan(list, { ...NONE, keepLast: 1 });
    const reasons = Object.fromEntries(plan.keep.map((k) => [k.id, k.reasons]));
    assert.deepEqual(reasons, { a5: ['newest', 'keepLast'], a3: ['newest'] });
    assert.deepEqual([...plan.delete].sort(), ['a1', 'a2', 'a4', 'a6']);
    // past maxAgeDays, with no count rule at all
    assert.deepEqual(deleted(list, { maxAgeDays: 1 }, new Date('2026-01-01T00:00:00Z')), ['a1', 'a2', 'a4', 'a6']);
  });

  it('maxAgeDays, pinned and safety still keep a damaged backup', () => {
    const list = hourly({ a6: bad.damaged, a2: { damaged: true, pinned: true }, a1: { unreadable: true, type: 'safety' } });
    assert.deepEqual(deleted(list, { keepLast: 1 }), ['a3', 'a4', 'a6']);
    assert.deepEqual(deleted(list, { keepLast: 1, maxAgeDays: 30 }, new Date('2025-03-11T00:00:00Z')), []);
  });

  it('keeps the newest backup of all when none is intact', () => {
    const list = hourly(Object.fromEntries(['a1', 'a2', 'a3', 'a4', 'a5', 'a6'].map((id) => [id, bad.damaged])));
    assert.deepEqual(deleted(list, { keepLast: 3 }), ['a1', 'a2', 'a3', 'a4', 'a5']);
  });
});

