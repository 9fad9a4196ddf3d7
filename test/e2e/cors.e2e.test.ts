import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { chromium } from 'playwright-core';
import { admin, startApp, TestApp } from '../support/app';
import { startPostgres, TestPostgres } from '../support/postgres';

const PANEL = 'https://panel.example.com';
const STRANGER = 'https://evil.example.net';
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

describe('CORS for the standalone server', () => {
  let pg: TestPostgres;
  let server: TestApp;
  /** Same database, CORS off (no CORS_ORIGINS). */
  let plain: TestApp;
  /** Same database and origins, a per-address limit of 3 requests a minute. */
  let limited: TestApp;
  let backupId: string;

  before(async () => {
    pg = await startPostgres();
    pg.psql('create database app');
    pg.psql('create table t (x int); insert into t values (1)', 'app');
    plain = await startApp(pg.url('app'));
    // the plain server's origin stands for a real admin panel's in the browser test
    server = await startApp(pg.url('app'), { backupDir: plain.backupDir }, { corsOrigins: [PANEL, 'http://localhost:4200', new URL(plain.base).origin] });
    limited = await startApp(pg.url('app'), { backupDir: plain.backupDir, rateLimit: { perAddressPerMinute: 3 } }, { corsOrigins: [PANEL] });
    backupId = (await server.createBackup()).id;
  });

  after(async () => {
    await limited?.close();
    await plain?.close();
    await server?.close();
    pg?.stop();
  });

  it('lets a page on a listed origin call the API in a real browser, and not one on another origin', async () => {
    const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run'] });
    try {
      const page = await browser.newPage();
      /** In the page: GET `url` with the token, from the page's own origin. */
      const fetchFrom = (url: string) =>
        page.evaluate(
          async ({ url, token }) => {
            try {
              const response = await fetch(url, { headers: { authorization: `Bearer ${token}` } });
              const size = (await response.arrayBuffer()).byteLength;
              return { status: response.status, disposition: response.headers.get('content-disposition'), length: response.headers.get('content-length'), size };
            } catch (error) {
              return { error: String(error) };
            }
          },
          { url, token: admin },
        );
      await page.goto(`${new URL(plain.base).origin}/health/live`);
      const me = await page.evaluate(
        async ({ url, token }) => (await fetch(url, { headers: { authorization: `Bearer ${token}` } })).json() as Promise<{ sub: string; level: string }>,
        { url: `${server.base}/me`, token: admin },
      );
      assert.deepEqual([me.sub, me.level], ['alice', 'admin']);
      const download = await fetchFrom(`${server.base}/backups/${backupId}/download`);
      assert.equal(download.status, 200);
      assert.match(download.disposition ?? '', /^attachment; filename=/);
      assert.equal(Number(download.length), download.size);

      await page.goto(`${new URL(limited.base).origin}/health/live`);
      const refused = await fetchFrom(`${server.base}/me`);
      assert.match(refused.error ?? '', /Failed to fetch/, JSON.stringify(refused));
    } finally {
      await browser.close();
    }
  });

  const preflight = (app: TestApp, path: string, origin: string, method = 'POST') =>
    fetch(`${app.base}${path}`, {
      method: 'OPTIONS',
      headers: { origin, 'access-control-request-method': method, 'access-control-request-headers': 'authorization, content-type' },
    });

  const auditTotal = async () => (await server.request('GET', '/audit?limit=1', { token: admin })).json.total as number;

  it('answers a preflight from a listed origin without a token: the headers and methods the API needs, no credentials', async () => {
    const response = await preflight(server, '/backups', PANEL);
    assert.equal(response.status, 204);
    assert.equal(response.headers.get('access-control-allow-origin'), PANEL);
    assert.equal(response.headers.get('access-control-allow-credentials'), null);
    assert.deepEqual(response.headers.get('access-control-allow-headers')?.split(','), ['Authorization', 'Content-Type', 'Last-Event-ID']);
    assert.match(response.headers.get('access-control-allow-methods') ?? '', /\bDELETE\b/);
    assert.equal(response.headers.get('access-control-max-age'), '600');
    assert.match(response.headers.get('vary') ?? '', /Origin/);
    assert.equal((await preflight(server, '/backups/config', 'http://localhost:4200', 'PUT')).headers.get('access-control-allow-origin'), 'http://localhost:4200');
  });

  it('gives an unlisted origin no Access-Control-Allow-Origin, on preflights and on calls', async () => {
    for (const origin of [STRANGER, `${PANEL}.evil.net`, 'http://panel.example.com', 'null']) {
      const response = await preflight(server, '/backups', origin);
      assert.equal(response.headers.get('access-control-allow-origin'), null, origin);
    }
    const call = await fetch(`${server.base}/backups`, { headers: { origin: STRANGER, authorization: `Bearer ${admin}` } });
    assert.equal(call.headers.get('access-control-allow-origin'), null);
  });

  it('leaves no audit entry for preflights, allowed or not, on any route', async () => {
    const before = await auditTotal();
    for (const path of ['/backups', `/backups/${backupId}`, `/backups/${backupId}/restore`, '/backups/config', '/operations/current/events', '/nope']) {
      await preflight(server, path, PANEL);
      await preflight(server, path, STRANGER, 'DELETE');
    }
    assert.equal(await auditTotal(), before);
  });

  it('exposes a download\'s Content-Disposition and Content-Length to a listed origin', async () => {
    const response = await fetch(`${server.base}/backups/${backupId}/download`, { headers: { origin: PANEL, authorization: `Bearer ${admin}` } });
    assert.equal(response.status, 200);
    await response.arrayBuffer();
    assert.equal(response.headers.get('access-control-allow-origin'), PANEL);
    const exposed = response.headers.get('access-control-expose-headers')?.split(',') ?? [];
    assert.ok(exposed.includes('Content-Disposition') && exposed.includes('Content-Length'), exposed.join());
    assert.match(response.headers.get('content-disposition') ?? '', /^attachment; filename=/);
  });

  it('still checks the token of a cross-origin call: 401 audited, with the CORS headers so the panel can read it', async () => {
    const before = await auditTotal();
    const response = await fetch(`${server.base}/backups`, { method: 'POST', headers: { origin: PANEL, 'content-type': 'application/json' }, body: '{}' });
    assert.equal(response.status, 401);
    assert.equal(response.headers.get('access-control-allow-origin'), PANEL);
    assert.equal(await auditTotal(), before + 1);
  });

  it('does not count preflights against the rate limit (which still counts calls)', async () => {
    for (let i = 0; i < 10; i++) assert.equal((await preflight(limited, '/backups', PANEL)).status, 204);
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) statuses.push((await limited.request('GET', '/backups', { token: admin })).status);
    assert.deepEqual(statuses, [200, 200, 200, 429]);
  });

  it('sends no CORS headers at all without CORS_ORIGINS: same origin only, and the preflight is not audited', async () => {
    const before = await auditTotal();
    const response = await preflight(plain, '/backups', PANEL);
    assert.equal(response.headers.get('access-control-allow-origin'), null);
    assert.equal(response.headers.get('access-control-allow-headers'), null);
    const call = await fetch(`${plain.base}/backups`, { headers: { origin: PANEL, authorization: `Bearer ${admin}` } });
    assert.equal(call.status, 200);
    assert.equal(call.headers.get('access-control-allow-origin'), null);
    assert.equal(await auditTotal(), before);
  });
});
