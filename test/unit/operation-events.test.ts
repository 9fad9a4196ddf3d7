import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { defer, Observable, of } from 'rxjs';
import { operationChanges } from '../../src/lock/operation-events.controller';
import { CurrentOperation } from '../../src/lock/lock.service';
import { findUiDir } from '../../src/ui/ui-assets';

import { sleep, until } from '../support/net';

const idle: CurrentOperation = { locked: false, operation: null };
const busy: CurrentOperation = {
  locked: true,
  operation: { type: 'backup', id: 'b1', startedBy: 'alice', startedAt: new Date(0), bytesDone: 0, irrevocable: false },
};

function reader(states: CurrentOperation[]) {
  let reads = 0;
  const read = (): Observable<CurrentOperation> =>
    defer(async () => {
      reads += 1;
      return states[Math.min(reads - 1, states.length - 1)];
    });
  return { read, reads: () => reads };
}

describe('operationChanges', () => {
  it('emits the first state at once and then only changes', async () => {
    const source = reader([idle, idle, busy, busy, idle, idle]);
    const seen: string[] = [];
    const subscription = operationChanges(source.read, 5).subscribe((data) => seen.push(data));
    await until(() => source.reads() >= 10, 'ten reads', { timeoutMs: 2000, pollMs: 5 });
    subscription.unsubscribe();
    assert.deepEqual(seen.map((s) => JSON.parse(s).locked), [false, true, false]);
  });

  it('shares one reader between clients, replays the latest to a late one, and stops reading when the last leaves', async () => {
    // the first read answers; the second never does, so each reader stops at two calls
    let calls = 0;
    let tornDown = false;
    const read = (): Observable<CurrentOperation> => {
      calls += 1;
      return calls === 1 ? of(idle) : new Observable<CurrentOperation>(() => () => (tornDown = true));
    };
    const changes = operationChanges(read, 5);
    const first: string[] = [];
    const late: string[] = [];
    const a = changes.subscribe((d) => first.push(d));
    await until(() => calls >= 2, 'the second read', { timeoutMs: 2000, pollMs: 5 });
    const b = changes.subscribe((d) => late.push(d));
    await sleep(30);
    assert.equal(calls, 2, 'one reader for both clients');
    assert.deepEqual(late, first, 'the late client gets the current state at once');
    a.unsubscribe();
    assert.equal(tornDown, false, 'one client left: still reading');
    b.unsubscribe();
    assert.equal(tornDown, true, 'the last client left: the read in flight is dropped');
  });
});

describe('findUiDir', () => {
  it('walks up to the folder holding package.json, from dist/src/ui and dist-x/src/ui alike', () => {
    const root = mkdtempSync(join(tmpdir(), 'pgb-ui-'));
    writeFileSync(join(root, 'package.json'), '{}');
    mkdirSync(join(root, 'ui'));
    writeFileSync(join(root, 'ui', 'index.html'), '<!doctype html>');
    for (const out of ['dist', 'dist-ui']) {
      const from = join(root, out, 'src', 'ui');
      mkdirSync(from, { recursive: true });
      assert.equal(findUiDir(from), join(root, 'ui'));
    }
  });

  it('finds nothing when the package has no ui folder', () => {
    const root = mkdtempSync(join(tmpdir(), 'pgb-ui-'));
    writeFileSync(join(root, 'package.json'), '{}');
    mkdirSync(join(root, 'dist'));
    assert.equal(findUiDir(join(root, 'dist')), null);
  });
});
