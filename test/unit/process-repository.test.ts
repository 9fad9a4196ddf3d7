import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { getPriority } from 'node:os';
import { ProcessFailedError, ProcessRepository } from '../../src/infra/process/process.repository';

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
});
