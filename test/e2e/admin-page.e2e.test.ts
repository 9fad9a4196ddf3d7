import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Client } from 'pg';
import { Browser, chromium, ConsoleMessage, Page } from 'playwright-core';
import { admin, startApp, TEST_SECRET, TestApp } from '../support/app';
import { startPostgres, TestPostgres } from '../support/postgres';
import { hs256 } from '../support/tokens';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const SCREENSHOTS = join(__dirname, '..', '..', '..', 'docs', 'screenshots');
/** The 4xx answers this suite provokes on purpose (bad tokens, an invalid cron); Chromium logs each as an error. */
const EXPECTED_FAILED_LOADS = /Failed to load resource: the server responded with a status of (400|401|403)\b/;

// no Chromium fails the suite (apt-get install chromium), like missing PostgreSQL binaries would
describe('the admin page in headless Chromium', () => {
  let pg: TestPostgres;
  let server: TestApp;
  let root: string;
  let browser: Browser;
  let page: Page;
  const consoleErrors: string[] = [];
  /** The page's last console lines, for the message of a failing step. */
  const consoleTail: string[] = [];

  before(async () => {
    pg = await startPostgres();
    pg.psql('create database shop');
    pg.psql('create table items (id int primary key, name text); insert into items select g, md5(g::text) from generate_series(1, 2000) g', 'shop');
    server = await startApp(pg.url('shop'), { auth: { secret: TEST_SECRET, adminRoles: ['admin'], operatorRoles: ['backup-operator'], viewerRoles: ['auditor'] } });
    root = server.base.replace(/\/api\/admin$/, '');
    await server.createBackup({ notes: 'nightly', tags: ['cron'] });
    const second = await server.createBackup({ notes: 'before the 2.3 migration', tags: ['release', 'v2.3'] });
    await server.request('POST', `/backups/${second.id}/verify`, { token: admin });
    await server.request('PATCH', `/backups/${second.id}`, { token: admin, body: { pinned: true } });
    pg.psql('insert into items select g, md5(g::text) from generate_series(2001, 6000) g', 'shop');
    await server.createBackup({ notes: 'after the import' });

    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic'],
    });
    page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    page.setDefaultTimeout(15_000);
    page.on('console', (message: ConsoleMessage) => {
      consoleTail.push(`${message.type()}: ${message.text()}`);
      if (consoleTail.length > 20) consoleTail.shift();
      if (message.type() === 'error' && !EXPECTED_FAILED_LOADS.test(message.text())) consoleErrors.push(message.text());
    });
    page.on('pageerror', (error) => consoleErrors.push(`page error: ${error.message}`));
    page.on('crash', () => consoleErrors.push('the page crashed'));
    mkdirSync(SCREENSHOTS, { recursive: true });
  });

  after(async () => {
    await browser?.close();
    await server?.close();
    pg?.stop();
  });

  /** What the page showed when a step failed: where it was, its messages, its console. */
  async function diagnose(): Promise<string> {
    const shown = await page
      .evaluate(`JSON.stringify({ auth: document.body.dataset.auth, error: document.querySelector('#auth-error')?.textContent,
        toasts: [...document.querySelectorAll('.toast')].map((t) => t.textContent), live: document.querySelector('#live')?.dataset.state })`)
      .catch((error: Error) => `page not readable: ${error.message}`);
    return `page ${page.url()}: ${shown}\nconsole:\n${consoleTail.join('\n')}`;
  }

  /** `it`, whose failure message says what the page showed. */
  function step(name: string, fn: () => Promise<void>): void {
    it(name, async () => {
      try {
        await fn();
      } catch (error) {
        if (error instanceof Error) error.message += `\n${await diagnose()}`;
        throw error;
      }
    });
  }

  /** The viewport (1280×800), scrolled to the top, without the toasts of earlier steps. */
  async function shot(name: string, { top = true } = {}): Promise<void> {
    await page.evaluate(`document.querySelectorAll('.toast').forEach((t) => t.remove()); ${top ? 'window.scrollTo(0, 0);' : ''}`);
    await page.screenshot({ path: join(SCREENSHOTS, `${name}.png`) });
  }

  step('serves the page with a strict CSP, no caching, the API path in a meta tag, and only its own files', async () => {
    const response = await fetch(`${root}/backup-admin`);
    assert.equal(response.status, 200);
    assert.match(response.headers.get('content-type') ?? '', /^text\/html; charset=utf-8/);
    assert.equal(response.headers.get('cache-control'), 'no-cache');
    const csp = response.headers.get('content-security-policy') ?? '';
    for (const directive of ["default-src 'self'", "connect-src 'self'", "img-src 'self' data:", "style-src 'self'", "script-src 'self'"]) {
      assert.ok(csp.includes(directive), `CSP has ${directive}: ${csp}`);
    }
    const html = await response.text();
    assert.match(html, /<meta name="pg-backup-api" content="\/api\/admin">/);
    assert.match(html, /<base href="\/backup-admin\/">/);

    const script = await fetch(`${root}/backup-admin/app.js`);
    assert.equal(script.status, 200);
    assert.match(script.headers.get('content-type') ?? '', /^text\/javascript/);
    assert.ok(script.headers.get('content-security-policy'));
    const css = await fetch(`${root}/backup-admin/style.css`);
    assert.match(css.headers.get('content-type') ?? '', /^text\/css/);
    for (const path of ['nope.js', '..%2Fpackage.json', '%2e%2e%2fpackage.json', 'index.html.bak']) {
      assert.equal((await fetch(`${root}/backup-admin/${path}`)).status, 404, path);
    }
  });

  step('explains a refused token and keeps nothing', async () => {
    await page.goto(`${root}/backup-admin`);
    await page.locator('#token-input').fill(hs256({ sub: 'mallory', roles: ['admin'] }, 'not-the-secret'));
    await page.locator('#token-form button[type=submit]').click();
    const error = page.locator('#auth-error');
    await error.waitFor({ state: 'visible' });
    assert.match(await error.innerText(), /refused this token \(invalid or expired token\)/);
    assert.equal(await page.evaluate('sessionStorage.getItem("pg-backup-token")'), null);

    await page.locator('#token-input').fill(hs256({ sub: 'bob', roles: ['viewer'] }, TEST_SECRET));
    await page.locator('#token-form button[type=submit]').click();
    await page.locator('#auth-error', { hasText: 'no role of this API' }).waitFor();
    assert.equal(await page.locator('#content').isHidden(), true);
  });

  step('signs in with a pasted token and lists the backups', async () => {
    await page.locator('#token-input').fill(admin);
    await page.locator('#token-form button[type=submit]').click();
    await page.locator('#backups-table tbody tr[data-status="completed"]').first().waitFor();
    assert.equal(await page.locator('#backups-table tbody tr').count(), 3);
    assert.equal(await page.locator('#auth-error').isHidden(), true);
    assert.equal(await page.locator('#whoami').innerText(), 'signed in as alice (admin)');
    assert.equal(await page.evaluate('sessionStorage.getItem("pg-backup-token")'), admin);
    assert.equal(await page.evaluate('localStorage.length'), 0, 'nothing in localStorage');
    assert.match(await page.locator('#backups-table tbody').innerText(), /before the 2\.3 migration[\s\S]*pinned|pinned[\s\S]*before the 2\.3 migration/);
    assert.equal(await page.locator('#chart svg rect.bar').count(), 3, 'one bar per completed backup');
    await page.locator('#live[data-state="live"]').waitFor();

    await page.locator('#filter-type').selectOption('safety');
    await page.locator('#backups-table tbody td.empty').waitFor();
    await page.locator('#filter-type').selectOption('');
    await page.locator('#backups-table tbody tr[data-id]').first().waitFor();
  });

  step('makes a backup with notes: the pushed progress shows while it runs, then the row turns completed', async () => {
    // an exclusive lock on the table holds the backup at its first read of it: it stays running until released
    const blocker = new Client({ connectionString: pg.url('shop') });
    await blocker.connect();
    await blocker.query('begin; lock table items in access exclusive mode');
    const eventsBefore = Number(await page.locator('#live').getAttribute('data-events'));
    try {
      await page.locator('#create-notes').fill('from the browser');
      await page.locator('#create-tags').fill('ui, e2e');
      await page.locator('#create-button').click();
      await page.locator('#operation-progress').waitFor({ state: 'visible' });
      assert.match(await page.locator('#operation').innerText(), /Backup running[\s\S]*started by alice/);
      assert.match(await page.locator('#operation').innerText(), /written[\s\S]*rate[\s\S]*elapsed/);
      assert.equal(await page.locator('#cancel-operation').isEnabled(), true);
      await shot('progress');
    } finally {
      await blocker.query('rollback');
      await blocker.end();
    }
    const row = page.locator('#backups-table tbody tr[data-status="completed"]', { hasText: 'from the browser' });
    await row.waitFor({ timeout: 20_000 });
    await page.locator('#operation').waitFor({ state: 'hidden' });
    assert.match(await row.innerText(), /ui[\s\S]*e2e/);
    const eventsAfter = Number(await page.locator('#live').getAttribute('data-events'));
    assert.ok(eventsAfter >= eventsBefore + 2, `the start and the end arrived as events (${eventsBefore} → ${eventsAfter})`);
    const { json } = await server.request('GET', '/backups?limit=1', { token: admin });
    assert.equal(json.items[0].notes, 'from the browser');
    assert.deepEqual(json.items[0].tags, ['ui', 'e2e']);
    await page.locator('.toast', { hasText: 'Backup completed' }).waitFor();
  });

  step('verifies a backup and shows each check', async () => {
    await page.locator('#backups-table tbody tr', { hasText: 'from the browser' }).getByRole('button', { name: 'Verify' }).click();
    await page.locator('#verify-checks').waitFor();
    const checks = await page.locator('#verify-checks li').allInnerTexts();
    assert.deepEqual(checks.map((c) => c.replace(/^✓ (\w+)[\s\S]*$/, '$1')), ['file', 'sha256', 'decompress', 'dump']);
    await page.locator('#result-close').click();
  });

  step('runs a restore drill and shows its result per table', async () => {
    const target = page.locator('#backups-table tbody tr', { hasText: 'after the import' });
    await target.getByRole('button', { name: 'Drill' }).click();
    await page.locator('#drill-tables').waitFor({ timeout: 30_000 });
    assert.match(await page.locator('#result-title').innerText(), /Restore drill passed/);
    assert.match(await page.locator('#drill-tables').innerText(), /public\.items\s+6000\s+6000/);
    await page.locator('#result-close').click();
    await target.locator('button', { hasText: '✓ passed' }).waitFor();
    await shot('backups');
  });

  step('restores only once the database name is typed exactly', async () => {
    const target = page.locator('#backups-table tbody tr', { hasText: 'before the 2.3 migration' });
    const backupId = await target.getAttribute('data-id');
    await target.getByRole('button', { name: 'Restore' }).click();
    const dialog = page.locator('#restore-dialog');
    await dialog.waitFor({ state: 'visible' });
    const text = await dialog.innerText();
    assert.match(text, /replaces the entire content of database shop/);
    assert.match(text, /Everything written since .* is lost/);
    assert.match(text, /safety backup/);
    await page.locator('#restore-preview-tables').waitFor({ timeout: 30_000 });
    assert.match(await page.locator('#restore-preview-tables').innerText(), /public\.items\s+6,000\s+2,000/, 'the dry run shows rows now and after');
    assert.equal(pg.psql('select count(*) from items', 'shop'), '6000', 'the preview changed nothing');
    const confirm = page.locator('#restore-confirm');
    assert.equal(await confirm.isDisabled(), true);
    await page.locator('#restore-confirm-input').fill('sho');
    assert.equal(await confirm.isDisabled(), true);
    await page.locator('#restore-confirm-input').fill('Shop');
    assert.equal(await confirm.isDisabled(), true, 'the name must match exactly');
    await page.locator('#restore-confirm-input').fill('shop');
    assert.equal(await confirm.isEnabled(), true);
    await shot('restore-dialog');
    await confirm.click();
    await dialog.waitFor({ state: 'hidden' });
    await page.locator('.toast', { hasText: 'Restore completed' }).waitFor({ timeout: 30_000 });
    const restores = await server.request('GET', '/restores', { token: admin });
    assert.equal(restores.json.items[0].backupId, backupId);
    assert.equal(restores.json.items[0].status, 'completed');
    assert.equal(pg.psql('select count(*) from items', 'shop'), '2000', 'the rows added after that backup are gone');
  });

  step('restores one picked table beside the live one, into a new schema, after its preview', async () => {
    const target = page.locator('#backups-table tbody tr', { hasText: 'after the import' });
    await target.getByRole('button', { name: 'Contents' }).click();
    await page.locator('#result-body table').waitFor();
    assert.match(await page.locator('#result-body').innerText(), /public\.items\s+6,000/);
    await page.locator('#result-close').click();

    await target.getByRole('button', { name: 'Restore' }).click();
    const dialog = page.locator('#restore-dialog');
    await dialog.waitFor({ state: 'visible' });
    await page.getByLabel('Only the tables I pick', { exact: false }).check();
    await page.locator('#restore-table-list input[value="public.items"]').check();
    await page.getByLabel('Beside the live tables, in a new schema').check();
    await page.locator('#restore-target-schema').fill('restored_items');
    await page.locator('#restore-preview-tables').waitFor({ timeout: 30_000 });
    assert.match(await dialog.innerText(), /live database is not touched/);
    await page.locator('#restore-confirm-input').fill('shop');
    await shot('restore-table-dialog');
    await page.locator('#restore-confirm').click();
    await dialog.waitFor({ state: 'hidden' });
    await page.locator('.toast', { hasText: 'Restore completed' }).last().waitFor({ timeout: 30_000 });
    assert.equal(pg.psql('select count(*) from restored_items.items', 'shop'), '6000', 'the table as it was in the backup, beside');
    assert.equal(pg.psql('select count(*) from public.items', 'shop'), '2000', 'the live table untouched');
  });

  step('shows the server\'s reason next to an invalid cron expression', async () => {
    const direct = await server.request('PUT', '/backups/config', { token: admin, body: { schedule: 'every day at noon' } });
    assert.equal(direct.status, 400);
    const reason = [direct.json.message].flat()[0] as string;

    await page.locator('#tab-settings').click();
    await page.locator('#schedule-status dl').waitFor();
    await page.locator('input[name="mode"][value="cron"]').check();
    await page.locator('#f-schedule').fill('every day at noon');
    await page.locator('#settings-save').click();
    const inline = page.locator('.field[data-field="schedule"] .field-error');
    await inline.waitFor();
    assert.equal(await inline.innerText(), reason);
    assert.equal(await page.locator('#f-schedule').getAttribute('aria-invalid'), 'true');
    assert.match(await page.locator('#settings-errors').innerText(), /refused these settings/);
    await page.locator('#cleanup-preview').click();
    await page.locator('#cleanup-result h3').first().waitFor();
    await shot('settings');

    await page.locator('#f-schedule').fill('0 3 * * *');
    await page.locator('input[name="enabled"]').check();
    await page.locator('#settings-save').click();
    await page.locator('#next-runs li').first().waitFor();
    assert.equal(await page.locator('.field-error').count(), 0);
    assert.equal(await page.locator('#next-runs li').count(), 5);
    const saved = await server.request('GET', '/backups/config', { token: admin });
    assert.equal(saved.json.schedule, '0 3 * * *');
  });

  step('lists the audit log, newest first, with the page\'s own actions in it', async () => {
    await page.locator('#tab-audit').click();
    await page.locator('#audit-table tbody tr[data-action="backup.restore"]').first().waitFor();
    const actions = await page.locator('#audit-table tbody tr').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-action')));
    assert.ok(actions.includes('config.update'));
    assert.ok(actions.includes('backup.create'));
    await page.locator('#audit-outcome').selectOption('denied');
    // a function, not a string: the page's CSP forbids eval, which a string predicate needs
    await page.waitForFunction(() =>
      [...(globalThis as any).document.querySelectorAll('#audit-table tbody tr[data-outcome]')].every((r: any) => r.dataset.outcome === 'denied'),
    );
    assert.ok((await page.locator('#audit-table tbody tr[data-outcome="denied"]').count()) >= 2, 'the refused tokens are there');
    await page.locator('#audit-outcome').selectOption('');
    await page.locator('#audit-table tbody tr[data-outcome="success"]').first().waitFor();
    await shot('audit');
  });

  step('takes a token handed over in the URL fragment, drops it from the address, and forgets it on sign-out', async () => {
    await page.goto(`${root}/backup-admin#token=${admin}`);
    await page.locator('#backups-table tbody tr[data-id]').first().waitFor();
    assert.equal(new URL(page.url()).hash, '#backups');
    assert.equal(await page.evaluate('sessionStorage.getItem("pg-backup-token")'), admin);
    await page.locator('#sign-out').click();
    await page.locator('#token-form').waitFor();
    assert.equal(await page.evaluate('sessionStorage.getItem("pg-backup-token")'), null);
    assert.equal(await page.locator('#live').getAttribute('data-state'), 'offline');
  });

  /** The action buttons of the first completed backup's row. */
  const rowActions = () =>
    page.locator('#backups-table tbody tr[data-status="completed"]').first().locator('td.actions button').allInnerTexts();

  step("shows an operator no restore, delete, cleanup or settings change; a viewer only reads", async () => {
    const operator = hs256({ sub: 'otto', roles: ['backup-operator'] }, TEST_SECRET);
    // a query of its own: a change of fragment alone would not load the page again
    await page.goto(`${root}/backup-admin?as=otto#token=${operator}`);
    await page.locator('#backups-table tbody tr[data-status="completed"]').first().waitFor();
    assert.equal(await page.locator('#whoami').innerText(), 'signed in as otto (operator)');
    assert.deepEqual(await rowActions(), ['Details', 'Download', 'Verify', 'Pin', 'Drill', 'Contents']);
    assert.equal(await page.locator('#backups-table button', { hasText: /^(Restore|Delete)$/ }).count(), 0);
    assert.equal(await page.locator('#create-form').isVisible(), true, 'an operator backs up');
    await page.locator('#tab-settings').click();
    await page.locator('#schedule-status dl').waitFor();
    assert.equal(await page.locator('#cleanup-panel').isHidden(), true);
    assert.equal(await page.locator('#settings-save').isHidden(), true);
    assert.equal(await page.locator('#f-schedule').isDisabled(), true);
    await shot('operator');

    const viewer = hs256({ sub: 'vera', roles: ['auditor'] }, TEST_SECRET);
    await page.goto(`${root}/backup-admin?as=vera#token=${viewer}`);
    await page.locator('#backups-table tbody tr[data-status="completed"]').first().waitFor();
    assert.equal(await page.locator('#whoami').innerText(), 'signed in as vera (viewer)');
    assert.deepEqual(await rowActions(), ['Details', 'Contents']);
    assert.equal(await page.locator('#create-form').isHidden(), true);
    await page.locator('#tab-audit').click();
    await page.locator('#audit-table tbody tr[data-action]').first().waitFor();

    await page.goto(`${root}/backup-admin?as=alice#token=${admin}`);
    await page.locator('#backups-table tbody tr[data-status="completed"]').first().waitFor();
    assert.deepEqual(await rowActions(), ['Details', 'Download', 'Verify', 'Pin', 'Drill', 'Contents', 'Restore', 'Delete']);
    await page.locator('#tab-settings').click();
    await page.locator('#schedule-status dl').waitFor();
    assert.equal(await page.locator('#cleanup-panel').isVisible(), true);
    assert.equal(await page.locator('#f-schedule').isDisabled(), false);
  });

  it('ran without a CSP violation or a script error', () => {
    assert.deepEqual(consoleErrors, []);
  });
});
