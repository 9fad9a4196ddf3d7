import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { freePort, sleep } from '../support/net';

const MAIN = join(__dirname, '..', '..', 'src', 'main.js');

async function startEmbedded(cwd: string, port: number) {
  const env: NodeJS.ProcessEnv = { ...process.env, PORT: String(port), LOG_LEVEL: 'warn' };
  delete env.DATABASE_URL;
  delete env.JWT_SECRET;
  const child = spawn(process.execPath, [MAIN], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (d) => (output += d));
  child.stderr.on('data', (d) => (output += d));
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  const deadline = Date.now() + 90_000;
  while (!/export TOKEN=(\S+)/.test(output)) {
    if (child.exitCode !== null || Date.now() > deadline) throw new Error(`embedded start failed: ${output}`);
    await sleep(200);
  }
  return { child, exited, token: /export TOKEN=(\S+)/.exec(output)![1], output: () => output };
}

describe('npm start without DATABASE_URL', () => {
  it('starts a local cluster with a sample database, prints a working admin token, and stops both on SIGINT', async () => {
    const cwd = mkdtempSync(join(tmpdir(), 'pgb-embedded-'));
    chmodSync(cwd, 0o755); // the cluster runs as the postgres user, which must reach it
    const port = await freePort();
    const base = `http://127.0.0.1:${port}/api/admin`;
    try {
      const first = await startEmbedded(cwd, port);
      assert.match(first.output(), /Embedded PostgreSQL: postgres:\/\/postgres@127\.0\.0\.1:\d+\/sample_shop/);
      const headers = { authorization: `Bearer ${first.token}` };
      const created = await fetch(`${base}/backups`, { method: 'POST', headers });
      assert.equal(created.status, 202);
      const { id } = (await created.json()) as { id: string };
      let backup: any;
      for (let i = 0; i < 100; i++) {
        backup = await (await fetch(`${base}/backups/${id}`, { headers })).json();
        if (backup.status !== 'running') break;
        await sleep(200);
      }
      assert.equal(backup.status, 'completed');
      assert.ok(backup.metadata.tables['public.orders'] > 0, 'the sample database has data');
      assert.ok(existsSync(join(cwd, 'backups', backup.filename)));

      first.child.kill('SIGINT');
      assert.equal(await first.exited, 0);
      assert.equal(existsSync(join(cwd, '.pgdata', 'data', 'postmaster.pid')), false, 'the cluster was stopped');

      const secret = readFileSync(join(cwd, '.pgdata', 'dev-jwt-secret'), 'utf8');
      const second = await startEmbedded(cwd, port);
      try {
        assert.equal(readFileSync(join(cwd, '.pgdata', 'dev-jwt-secret'), 'utf8'), secret, 'the cluster and secret are reused');
        const list = await (await fetch(`${base}/backups`, { headers: { authorization: `Bearer ${second.token}` } })).json();
        assert.equal((list as any).total, 1, 'history kept across restarts');
      } finally {
        second.child.kill('SIGINT');
        assert.equal(await second.exited, 0);
      }
    } finally {
      rmSync(cwd, { recursive: true, force: true });
    }
  });
});
