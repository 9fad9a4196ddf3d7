import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ApiError, DamagedBackupError, errorFromResponse, NoSpaceError } from '../dist/index.js';

const answer = (status, body) => new Response(typeof body === 'string' ? body : JSON.stringify(body), { status });

test('maps 422 and 507 to typed errors with the server message, joins validation lists, survives a non-JSON body', async () => {
  const damaged = await errorFromResponse(answer(422, { statusCode: 422, message: 'backup 1 is damaged: sha256 mismatch', error: 'Unprocessable Entity' }));
  assert.ok(damaged instanceof DamagedBackupError);
  assert.equal(damaged.message, 'backup 1 is damaged: sha256 mismatch');
  const full = await errorFromResponse(answer(507, { statusCode: 507, message: 'only 1 MB free', error: 'Insufficient Storage' }));
  assert.ok(full instanceof NoSpaceError && full.status === 507 && full.message === 'only 1 MB free');
  const invalid = await errorFromResponse(answer(400, { statusCode: 400, message: ['confirm must be true', 'limit must be an integer'] }));
  assert.ok(invalid instanceof ApiError && !(invalid instanceof DamagedBackupError));
  assert.equal(invalid.message, 'confirm must be true; limit must be an integer');
  const proxy = await errorFromResponse(answer(502, '<html>Bad Gateway</html>'));
  assert.equal(proxy.status, 502);
  assert.equal(proxy.body, undefined);
  assert.equal(proxy.message, '<html>Bad Gateway</html>');
});
