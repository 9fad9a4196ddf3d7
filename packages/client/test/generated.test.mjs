import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));

test('src/generated/openapi.ts is current with the repository openapi.json', () => {
  const dir = mkdtempSync(join(tmpdir(), 'pgb-client-gen-'));
  try {
    const fresh = join(dir, 'openapi.ts');
    execFileSync(join(root, 'node_modules/.bin/openapi-typescript'), ['../../openapi.json', '--default-non-nullable', 'false', '-o', fresh], { cwd: root, stdio: 'pipe' });
    const checkedIn = readFileSync(join(root, 'src/generated/openapi.ts'), 'utf8');
    assert.ok(
      readFileSync(fresh, 'utf8') === checkedIn,
      'packages/client/src/generated/openapi.ts is stale: run `npm run openapi` at the root, then `npm --prefix packages/client run generate`, and commit both',
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
