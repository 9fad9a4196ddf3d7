import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { getPriority } from 'node:os';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ProcessFailedError, ProcessRepository } from '../../src/infra/process/process.repository';
import { fileOffset } from '../../src/infra/storage/file-offset';

describe('ProcessRepository.spawn', () => {
  const processes = new ProcessRepository();

  it('runs children 10 nice levels below the server, so the API comes first under load', async () => {
    const child = processes.spawn('sleep', ['5'], { env: { PATH: process.env.PATH } });
    try {
      assert.equal(getPriority(child.pid), Math.min(19, getPriority() + 10));
    } finally {
      child.kill();
    }
    await assert.rejects(child.completion, (error: unknown) => error instanceof ProcessFailedError && error.signal === 'SIGKILL');
  });

  it('gives a child an open file as stdin; its reads move the offset Node sees (restore progress)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pgb-offset-'));
    const file = await open(join(dir, 'data'), 'w+');
    try {
      writeFileSync(join(dir, 'data'), Buffer.alloc(10_000, 1));
      assert.equal(await fileOffset(file.fd), 0);
      const child = processes.spawn('dd', ['bs=1', 'count=1234', 'status=none', 'of=/dev/null'], { env: { PATH: process.env.PATH }, stdin: file.fd });
      await child.completion;
      assert.equal(await fileOffset(file.fd), 1234);
    } finally {
      await file.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
