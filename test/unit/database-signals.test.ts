import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseSignal } from '../../src/database/database-signals';

describe('parseSignal', () => {
  it('accepts the two kinds and drops whatever else they carry', () => {
    assert.deepEqual(parseSignal('{"kind":"config"}'), { kind: 'config' });
    assert.deepEqual(parseSignal('{"kind":"cancel","operationId":"6f1c1c2e-0000-4000-8000-000000000001"}'), { kind: 'cancel' });
  });

  it('returns null, never throws, for anything else', () => {
    for (const payload of ['', 'not json', '{"kind":', 'null', '1', '"cancel"', '[]', '["cancel"]', '{}', '{"kind":"launch"}', '{"kind":{"toString":1}}', '{"kind":["cancel"]}', 'x'.repeat(8000)]) {
      assert.equal(parseSignal(payload), null, payload.slice(0, 40));
    }
  });
});
