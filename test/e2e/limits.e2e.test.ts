import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { admin, startApp, TestApp } from '../support/app';
import { until } from '../support/net';
import { startPostgres, TestPostgres } from '../support/postgres';

describe('concurrent downloads and verifications are bounded', () => {
  let pg: TestPostgres;
  let server: TestApp;
  let backupId: string;

  before(async () => {
    pg = await startPostgres();
    pg.psql('create database app');
    // ~40 MB uncompressed: more than the socket buffers hold, so a client that stops reading keeps its download open
    pg.psql('create table t (id int primary key, body text); insert into t select g, md5(g::text) || md5((g + 1)::text) || md5((g + 2)::text) from generate_series(1, 400000) g', 'app');
    server = await startApp(pg.url('app'), { initialCompression: 'none', maxConcurrentDownloads: 1, maxConcurrentVerifies: 1 });
    const backup = await server.createBackup();
    assert.equal(backup.status, 'completed', JSON.stringify(backup));
    backupId = backup.id;
  });

  after(async () => {
    await server?.close();
    pg?.stop();
  });

  it('answers 429 beyond the limit, and serves again once a download ends', async () => {
    const { port } = new URL(server.base);
    const slow = connect(Number(port), '127.0.0.1');
    slow.on('error', () => undefined);
    let head = '';
    slow.on('data', (chunk) => {
      head += chunk.toString('latin1', 0, Math.min(chunk.length, 200));
      slow.pause(); // a client that stops reading
    });
    slow.write(`GET /api/admin/backups/${backupId}/download HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${admin}\r\n\r\n`);
    await until(() => head.startsWith('HTTP/1.1 200'), 'the first download to start');

    const refused = await fetch(`${server.base}/backups/${backupId}/download`, { headers: { authorization: `Bearer ${admin}` } });
    assert.equal(refused.status, 429);
    assert.match(((await refused.json()) as { message: string }).message, /try again/);

    slow.destroy();
    let status = 0;
    await until(
      async () => {
        const res = await fetch(`${server.base}/backups/${backupId}/download`, { headers: { authorization: `Bearer ${admin}` } });
        status = res.status;
        await res.arrayBuffer();
        return status === 200;
      },
      'a download once the first one ended',
      { timeoutMs: 10_000, pollMs: 100 },
    );
    assert.equal(status, 200);
  });

  it('answers 429 to a verification while another runs, and verifies again once it ended', async () => {
    const verify = () => server.request('POST', `/backups/${backupId}/verify`, { token: admin });
    const statuses = (await Promise.all([verify(), verify(), verify()])).map((r) => r.status).sort();
    assert.deepEqual(statuses, [200, 429, 429]);
    const again = await verify();
    assert.equal(again.status, 200);
    assert.equal(again.json.valid, true);
  });
});
