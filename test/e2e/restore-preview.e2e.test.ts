import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { admin, startApp, TestApp } from '../support/app';
import { fingerprint } from '../support/fingerprint';
import { MUTATIONS, RICH_FIXTURE } from '../support/fixture';
import { blockTable } from '../support/open-transaction';
import { sleep } from '../support/net';
import { startPostgres, TestPostgres } from '../support/postgres';

const SCHEMAS = ['public', 'app', 'Mixed Case', 'created_later', 'later'];

describe('restore dry run: a preview, nothing changed', () => {
  let pg: TestPostgres;
  let server: TestApp;
  let backup: any;

  const preview = (id: string, body: object = {}) => server.request('POST', `/backups/${id}/restore`, { token: admin, body: { dryRun: true, ...body } });
  const restoreRows = () => pg.psql('select count(*) from backup_admin.restore_history', 'shop');
  const table = (p: any, name: string) => p.tables.find((t: any) => t.name === name);

  before(async () => {
    pg = await startPostgres();
    pg.psql('create database shop');
    pg.psql(RICH_FIXTURE, 'shop');
    server = await startApp(pg.url('shop'));
    backup = await server.createBackup();
    assert.equal(backup.status, 'completed', JSON.stringify(backup));
  });

  after(async () => {
    await server?.close();
    pg?.stop();
  });

  it('right after the backup: the same counts, nothing vanishing, no role to create, locks and space enough, no history to estimate from', async () => {
    const r = await preview(backup.id);
    assert.equal(r.status, 200, r.text);
    const p = r.json;
    assert.equal(p.backupId, backup.id);
    assert.deepEqual(p.scope, { tables: [], schemas: [] });
    assert.equal(p.target, null);
    assert.deepEqual(table(p, 'public.users'), { name: 'public.users', current: 3000, backup: 3000, estimated: false });
    assert.deepEqual(table(p, 'app.orders'), { name: 'app.orders', current: 8000, backup: 8000, estimated: false });
    assert.equal(table(p, 'Mixed Case.Events_2025').current, backup.metadata.tables['Mixed Case.Events_2025']);
    assert.ok(!p.tables.some((t: any) => t.name.startsWith('backup_admin.')), "the module's own tables are never restored");
    assert.deepEqual(p.vanishing, [], 'every live object is in the backup (views, matviews, functions, types, domains, sequences, schemas with spaces)');
    assert.deepEqual(p.roles, { toCreate: [], needPassword: [] });
    assert.equal(p.locks.enough, true);
    assert.ok(p.locks.needed > 0 && p.locks.needed < p.locks.available);
    assert.equal(p.safetyBackup.enough, true);
    assert.ok(p.safetyBackup.expectedBytes >= backup.sizeBytes);
    assert.equal(p.estimatedDurationMs, null);
    assert.equal(p.blockedBy, null);
  });

  it('after changes: current against the backup per table, objects made since listed as vanishing; nothing changed, no record, no lock', async () => {
    pg.psql(MUTATIONS, 'shop');
    pg.psql(
      `create schema later; create table later.notes (x int); create function app.later_fn(n int, t text) returns int language sql as 'select 1';
       create type app.colour as enum ('red'); create sequence public.later_seq; insert into app.after_backup values (1), (2), (3);`,
      'shop',
    );
    const before = fingerprint(pg, 'shop', SCHEMAS);
    const r = await preview(backup.id, { confirm: true });
    assert.equal(r.status, 200, r.text);
    const p = r.json;
    assert.deepEqual(table(p, 'app.orders'), { name: 'app.orders', current: 4000, backup: 8000, estimated: false });
    assert.deepEqual(table(p, 'app.after_backup'), { name: 'app.after_backup', current: 4, backup: null, estimated: false });
    assert.deepEqual(
      p.vanishing.map((o: any) => `${o.kind} ${o.schema ?? '-'} ${o.name}`),
      [
        'SCHEMA - created_later',
        'SCHEMA - later',
        'TABLE app after_backup',
        'TYPE app colour',
        'FUNCTION app later_fn(integer, text)',
        'TABLE created_later t',
        'TABLE later notes',
        'SEQUENCE public later_seq',
      ],
    );
    assert.ok(!p.vanishing.some((o: any) => o.name === 'user_totals'), 'a dropped view comes back, it does not vanish');

    assert.deepEqual(fingerprint(pg, 'shop', SCHEMAS), before, 'a dry run changes nothing');
    assert.equal(restoreRows(), '0', 'a dry run writes no restore record');
    assert.equal((await server.request('GET', '/operations/current', { token: admin })).json.locked, false);
    const audit = (await server.request('GET', '/audit?action=backup.restore', { token: admin })).json;
    assert.equal(audit.items[0].detail.body.dryRun, true, 'the audit entry shows it was a dry run');
  });

  it('restricted to the tables or schemas asked for', async () => {
    const tables = (await preview(backup.id, { tables: ['app.orders'] })).json;
    assert.deepEqual(tables.scope, { tables: ['app.orders'], schemas: [] });
    assert.deepEqual(tables.tables.map((t: any) => t.name), ['app.orders']);
    assert.deepEqual(tables.vanishing, []);

    const schemas = (await preview(backup.id, { schemas: ['later'] })).json;
    assert.deepEqual(schemas.tables.map((t: any) => t.name), ['later.notes']);
    assert.deepEqual(schemas.vanishing.map((o: any) => `${o.kind} ${o.name}`), ['SCHEMA later', 'TABLE notes']);
  });

  it('answers while another operation runs and a table is locked: blockedBy names it, the locked table is estimated', async () => {
    const blocker = await blockTable(pg.url('shop'), 'app.orders');
    let running: any;
    try {
      running = await server.request('POST', '/backups', { token: admin, body: { notes: 'waits for the blocker' } });
      assert.equal(running.status, 202, running.text);
      const started = Date.now();
      const r = await preview(backup.id);
      assert.equal(r.status, 200, r.text);
      assert.ok(Date.now() - started < 20_000, 'a locked table does not stall the preview');
      assert.equal(r.json.blockedBy.type, 'backup');
      assert.equal(r.json.blockedBy.id, running.json.id);
      assert.equal(table(r.json, 'app.orders').estimated, true);
      assert.equal(table(r.json, 'public.users').estimated, false);
      const real = await server.request('POST', `/backups/${backup.id}/restore`, { token: admin, body: { confirm: true } });
      assert.equal(real.status, 409, 'the real restore is still refused while the backup runs');
    } finally {
      await blocker.end();
    }
    assert.equal((await server.waitDone(`/backups/${running.json.id}`, admin)).status, 'completed');
    for (let i = 0; i < 100 && (await server.request('GET', '/operations/current', { token: admin })).json.locked; i++) await sleep(100);
  });

  it('names the roles the backup needs that the cluster lacks', async () => {
    pg.psql('create role ghost nologin; create table public.haunted (x int); alter table public.haunted owner to ghost;', 'shop');
    const withGhost = await server.createBackup();
    pg.psql('drop table public.haunted; drop role ghost;', 'shop');
    const p = (await preview(withGhost.id)).json;
    assert.deepEqual(p.roles, { toCreate: ['ghost'], needPassword: [] });
    assert.deepEqual(table(p, 'public.haunted'), { name: 'public.haunted', current: null, backup: 0, estimated: false });
  });

  it('refuses bad input with a 4xx and changes nothing', async () => {
    const before = fingerprint(pg, 'shop', SCHEMAS);
    const unknown = await preview('00000000-0000-4000-8000-000000000000');
    assert.equal(unknown.status, 404, unknown.text);
    const malformed = await preview('not-a-uuid');
    assert.equal(malformed.status, 400);
    const badFlag = await server.request('POST', `/backups/${backup.id}/restore`, { token: admin, body: { dryRun: 'yes' } });
    assert.equal(badFlag.status, 400);
    assert.match(JSON.stringify(badFlag.json.message), /dryRun/);
    const noConfirm = await server.request('POST', `/backups/${backup.id}/restore`, { token: admin, body: { dryRun: false } });
    assert.equal(noConfirm.status, 400, 'a real restore still needs confirm');
    const badTarget = await preview(backup.id, { target: { schema: 'a', database: 'b' } });
    assert.equal(badTarget.status, 400);
    pg.psql(`update backup_admin.backup_history set status = 'failed' where id = '${backup.id}'`, 'shop');
    try {
      const failed = await preview(backup.id);
      assert.equal(failed.status, 422, failed.text);
      assert.match(failed.json.message, /only a completed backup/);
    } finally {
      pg.psql(`update backup_admin.backup_history set status = 'completed' where id = '${backup.id}'`, 'shop');
    }
    await sleep(10);
    assert.deepEqual(fingerprint(pg, 'shop', SCHEMAS), before);
    assert.equal(restoreRows(), '0');
  });
});
