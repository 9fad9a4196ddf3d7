import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { boundedDetail, boundedText, MAX_DETAIL_CHARS, MAX_TEXT } from '../../src/audit/audit-bounds';

describe('audit bounds', () => {
  it('replaces what PostgreSQL refuses and cuts long strings', () => {
    assert.equal(boundedText('a\u0000b\ud800c\udc00d\ud83d\ude00'), 'a\uFFFDb\uFFFDc\uFFFDd\ud83d\ude00');
    const long = boundedText('x'.repeat(20_000));
    assert.ok(long.length < MAX_TEXT + 40, `${long.length}`);
    assert.match(long, /… \(20000 characters\)$/);
  });

  it('keeps a small detail as it is', () => {
    const detail = { method: 'PUT', path: '/api/admin/backups/config', body: { tags: ['a', 'b'], n: 1, ok: true, none: null } };
    assert.deepEqual(boundedDetail(detail), detail);
  });

  it('keeps a __proto__ key of a JSON body as a key', () => {
    const bounded = boundedDetail({ body: JSON.parse('{"__proto__": {"x": 1}, "y": 2}') });
    assert.equal(JSON.stringify(bounded), '{"body":{"__proto__":{"x":1},"y":2}}');
  });

  it('caps nesting, list length, key count and the whole detail', () => {
    let deep: unknown = 'bottom';
    for (let i = 0; i < 10_000; i++) deep = { d: deep };
    const wide = Object.fromEntries(Array.from({ length: 5000 }, (_, i) => [`k${i}`, 'v'.repeat(900)]));
    const detail = { method: 'POST', path: `/api/admin/backups?${'q'.repeat(15_000)}`, status: 400, body: { deep, wide, list: Array(100_000).fill('item') } };
    const bounded = boundedDetail(detail);
    assert.ok(JSON.stringify(bounded).length <= MAX_DETAIL_CHARS, `${JSON.stringify(bounded).length}`);
    assert.equal(bounded.method, 'POST');
    assert.equal(bounded.status, 400);
    assert.match(String(bounded.body), /characters left out/);
  });
});
