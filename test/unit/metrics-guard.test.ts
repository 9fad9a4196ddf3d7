import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isLoopback } from '../../src/metrics/metrics-token.guard';

describe('isLoopback', () => {
  it('knows 127.0.0.0/8 and ::1, also IPv4-mapped', () => {
    for (const address of ['127.0.0.1', '127.8.9.10', '::1', '::ffff:127.0.0.1']) assert.equal(isLoopback(address), true, address);
  });

  it('refuses every other address, and none', () => {
    for (const address of ['192.0.2.2', '::ffff:10.0.0.1', 'fd00::2', '::', '0.0.0.0', '128.0.0.1', '127.0.0.1.example', undefined]) {
      assert.equal(isLoopback(address), false, String(address));
    }
  });
});
