import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { BackupScheduler } from '../../src/automation/backup-scheduler';
import { ScheduleTickRepository } from '../../src/automation/schedule-tick.repository';
import { BackupEvents, BackupEventMap } from '../../src/events/backup-events';
import { LockService } from '../../src/lock/lock.service';
import { admin, startApp, TestApp } from '../support/app';
import { freePort, sleep, until } from '../support/net';
import { startPostgres, TestPostgres } from '../support/postgres';
import { ServerProcess, startServerProcess } from '../support/server-process';
import { TEST_SECRET } from '../support/app';

const EVERY_5_SECONDS = '*/5 * * * * *';
/** Ticks watched before the schedule is switched off. */
const TICKS = 6;

describe('scheduled backups with three instances on one database', () => {
  let pg: TestPostgres;
  const instances: TestApp[] = [];

  before(async () => {
    pg = await startPostgres();
    pg.psql('create database shop');
    pg.psql('create table items (id serial primary key, name text); insert into items (name) select md5(g::text) from generate_series(1, 2000) g', 'shop');
    // replicas share one backup directory, as they would share a volume
    const backupDir = mkdtempSync(join(tmpdir(), 'pgb-test-backups-'));
    for (let i = 0; i < 3; i++) instances.push(await startApp(pg.url('shop'), { backupDir }));
  });

  after(async () => {
    for (const instance of instances) await instance.close();
    pg?.stop();
  });

  it('a schedule set through one instance is armed by the others within seconds (LISTEN/NOTIFY, not the 30 s reload)', async () => {
    for (const instance of instances) assert.equal(instance.app.get(BackupScheduler).armedTicks().backup, null, 'no schedule at first');

    const r = await instances[0].request('PUT', '/backups/config', { token: admin, body: { enabled: true, schedule: EVERY_5_SECONDS } });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.nextRuns.length, 5);
    assert.equal(Date.parse(r.json.nextRuns[1]) - Date.parse(r.json.nextRuns[0]), 5000);

    const started = Date.now();
    await until(() => instances.every((i) => i.app.get(BackupScheduler).armedTicks().backup !== null), 'every instance to arm the schedule', { timeoutMs: 3000, pollMs: 50 });
    assert.ok(Date.now() - started < 3000);
  });

  it(`runs exactly one backup per tick for ${TICKS} ticks, none missing`, async () => {
    const completed = () => Number(pg.psql(`select count(*) from backup_admin.schedule_tick where kind = 'backup' and outcome = 'completed'`, 'shop'));
    await until(() => completed() >= TICKS, `${TICKS} completed ticks`, { timeoutMs: (TICKS + 4) * 5000, pollMs: 200 });
    await instances[1].request('PUT', '/backups/config', { token: admin, body: { enabled: false } });
    await until(async () => !(await instances[0].request('GET', '/operations/current', { token: admin })).json.locked, 'the last backup', { timeoutMs: 30_000, pollMs: 50 });
    await until(() => instances.every((i) => i.app.get(BackupScheduler).armedTicks().backup === null), 'every instance to disarm', { timeoutMs: 3000, pollMs: 50 });

    const ticks = pg
      .psql(`select extract(epoch from scheduled_at) * 1000, outcome, backup_id, instance_id from backup_admin.schedule_tick where kind = 'backup' order by scheduled_at`, 'shop')
      .split('\n')
      .map((line) => line.split('|'))
      .map(([at, outcome, backupId, instance]) => ({ at: Number(at), outcome, backupId, instance }));
    const backups = (await instances[2].request('GET', '/backups?type=scheduled&limit=200', { token: admin })).json.items;

    assert.ok(ticks.length >= TICKS, `at least ${TICKS} ticks, got ${ticks.length}`);
    for (let i = 1; i < ticks.length; i++) assert.equal(ticks[i].at - ticks[i - 1].at, 5000, 'consecutive ticks, none missing');
    assert.deepEqual(ticks.map((t) => t.outcome), ticks.map(() => 'completed'), JSON.stringify(ticks));
    assert.equal(backups.length, ticks.length, 'one backup per tick, never two');
    assert.deepEqual(
      backups.map((b: any) => Date.parse(b.origin.scheduledFor)).sort(),
      ticks.map((t) => t.at),
      'each backup names its tick',
    );
    assert.deepEqual(new Set(backups.map((b: any) => b.id)), new Set(ticks.map((t) => t.backupId)));
    assert.ok(backups.every((b: any) => b.status === 'completed'));

    const config = (await instances[0].request('GET', '/backups/config', { token: admin })).json;
    assert.equal(config.lastTick.outcome, 'completed');
    assert.equal(Date.parse(config.lastTick.scheduledAt), ticks.at(-1)!.at);
    console.log(`# ${ticks.length} ticks, ${backups.length} backups, claimed by ${new Set(ticks.map((t) => t.instance)).size} of 3 instances`);
  });

  it('a late instance finds the tick taken and runs nothing, even after the backup finished', async () => {
    const [first] = pg.psql(`select scheduled_at from backup_admin.schedule_tick where kind = 'backup' order by scheduled_at limit 1`, 'shop').split('\n');
    const claimed = await instances[2].app.get(ScheduleTickRepository).claim('backup', new Date(first.replace(' ', 'T').replace(/\+00$/, 'Z')), 'late');
    assert.equal(claimed, false);
  });

  it('a tick that finds another operation running is recorded as skipped and announced as schedule.missed', async () => {
    const missed: BackupEventMap['schedule.missed'][] = [];
    for (const instance of instances) instance.app.get(BackupEvents).on('schedule.missed', (e) => void missed.push(e));
    const held = await instances[0].app.get(LockService).acquire('backup', randomUUID(), 'someone');
    try {
      await instances[0].request('PUT', '/backups/config', { token: admin, body: { enabled: true } });
      await until(() => missed.length > 0, 'a missed tick', { timeoutMs: 8000, pollMs: 50 });
    } finally {
      await instances[0].request('PUT', '/backups/config', { token: admin, body: { enabled: false } });
      await held.release();
    }
    assert.equal(missed.length, 1, 'announced once, by the instance that claimed the tick');
    assert.equal(missed[0].kind, 'backup');
    assert.match(missed[0].reason, /another backup or restore is running: backup .* started by someone/);
    const config = (await instances[1].request('GET', '/backups/config', { token: admin })).json;
    assert.equal(config.lastTick.outcome, 'skipped');
    assert.match(config.lastTick.detail, /started by someone/);
    assert.equal(config.lastTick.backupId, null);
  });
});

describe('scheduled backups with two server processes seeded by BACKUP_SCHEDULE', () => {
  let pg: TestPostgres;
  const servers: ServerProcess[] = [];

  before(async () => {
    pg = await startPostgres();
    pg.psql('create table items (id serial primary key, name text); insert into items (name) select md5(g::text) from generate_series(1, 1000) g', 'postgres');
  });

  after(async () => {
    for (const server of servers) {
      server.kill('SIGTERM');
      await server.exited();
    }
    pg?.stop();
  });

  it('runs one backup per tick, none missing, across two operating-system processes', async () => {
    const backupDir = mkdtempSync(join(tmpdir(), 'pgb-test-backups-'));
    const env = { DATABASE_URL: pg.url('postgres'), BACKUP_DIR: backupDir, JWT_SECRET: TEST_SECRET, BACKUP_SCHEDULE: '*/4 * * * * *' };
    servers.push(...(await Promise.all([0, 1].map(async () => startServerProcess({ ...env, PORT: String(await freePort()) })))));
    const completedTicks = () => Number(pg.psql(`select count(*) from backup_admin.schedule_tick where kind = 'backup' and outcome = 'completed'`, 'postgres'));
    await until(() => completedTicks() >= 4, 'four scheduled ticks', { timeoutMs: 40_000, pollMs: 200 });
    const headers = { authorization: `Bearer ${admin}`, 'content-type': 'application/json' };
    await fetch(`${servers[0].base}/backups/config`, { method: 'PUT', headers, body: JSON.stringify({ enabled: false }) });
    await until(async () => !((await (await fetch(`${servers[1].base}/operations/current`, { headers })).json()) as { locked: boolean }).locked, 'the last backup', { timeoutMs: 15_000, pollMs: 50 });

    const ticks = pg
      .psql(`select extract(epoch from scheduled_at) * 1000, outcome, instance_id from backup_admin.schedule_tick where kind = 'backup' order by 1`, 'postgres')
      .split('\n')
      .map((line) => line.split('|'));
    const backups = pg.psql(`select count(*) from backup_admin.backup_history where type = 'scheduled' and status = 'completed'`, 'postgres');
    assert.ok(ticks.length >= 3, `at least 3 ticks, got ${ticks.length}`);
    for (let i = 1; i < ticks.length; i++) assert.equal(Number(ticks[i][0]) - Number(ticks[i - 1][0]), 4000, 'consecutive ticks, none missing');
    assert.deepEqual([...new Set(ticks.map((t) => t[1]))], ['completed']);
    assert.equal(Number(backups), ticks.length, 'one backup per tick, never two');
    console.log(`# ${ticks.length} ticks, ${backups} backups, claimed by ${new Set(ticks.map((t) => t[2])).size} of 2 processes`);
  });
});

describe('interval schedules and time zones', () => {
  let pg: TestPostgres;
  let app: TestApp;

  before(async () => {
    pg = await startPostgres();
    app = await startApp(pg.url('postgres'));
  });

  after(async () => {
    await app?.close();
    pg?.stop();
  });

  it('ticks every N minutes on multiples of the interval, the same on every replica', async () => {
    const r = await app.request('PUT', '/backups/config', { token: admin, body: { enabled: true, schedule: null, intervalMinutes: 10 } });
    assert.equal(r.status, 200, r.text);
    for (const run of r.json.nextRuns) assert.equal(Date.parse(run) % 600_000, 0, run);
    assert.equal(Date.parse(r.json.nextRuns[1]) - Date.parse(r.json.nextRuns[0]), 600_000);
  });

  it('refuses a cron schedule and an interval together, and explains an unknown time zone', async () => {
    const both = await app.request('PUT', '/backups/config', { token: admin, body: { schedule: '0 3 * * *' } });
    assert.equal(both.status, 400);
    assert.match(both.json.message, /either schedule .* or intervalMinutes/);
    const zone = await app.request('PUT', '/backups/config', { token: admin, body: { timezone: 'Mars/Olympus' } });
    assert.equal(zone.status, 400);
    assert.match(String(zone.json.message), /unknown time zone "Mars\/Olympus"/);
    const interval = await app.request('PUT', '/backups/config', { token: admin, body: { intervalMinutes: 0 } });
    assert.equal(interval.status, 400);
  });

  it('reads cron expressions in the configured time zone', async () => {
    const r = await app.request('PUT', '/backups/config', {
      token: admin,
      body: { intervalMinutes: null, schedule: '0 3 * * *', timezone: 'America/New_York' },
    });
    assert.equal(r.status, 200, r.text);
    const next = new Date(r.json.nextRunAt);
    const local = new Intl.DateTimeFormat('en-US', { timeZone: 'America/New_York', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).format(next);
    assert.equal(local, '03:00');
    assert.ok([7, 8].includes(next.getUTCHours()), next.toISOString());
  });
});

describe('backup on startup', () => {
  let pg: TestPostgres;
  const apps: TestApp[] = [];

  before(async () => {
    pg = await startPostgres();
  });

  after(async () => {
    for (const app of apps) await app.close();
    pg?.stop();
  });

  it('runs once per window however many instances start together, and not again on a restart within it', async () => {
    const backupDir = mkdtempSync(join(tmpdir(), 'pgb-test-backups-'));
    const options = { backupDir, backupOnStartup: { windowMinutes: 60 } };
    apps.push(...(await Promise.all([startApp(pg.url('postgres'), options), startApp(pg.url('postgres'), options)])));
    await until(async () => (await apps[0].request('GET', '/backups?type=startup', { token: admin })).json.items[0]?.status === 'completed', 'the startup backup', { timeoutMs: 30_000, pollMs: 50 });
    await apps.pop()!.close();
    apps.push(await startApp(pg.url('postgres'), options));
    await sleep(1500);
    const startup = (await apps[0].request('GET', '/backups?type=startup', { token: admin })).json;
    assert.equal(startup.total, 1, JSON.stringify(startup.items));
    assert.equal(pg.psql(`select count(*) from backup_admin.schedule_tick where kind = 'startup'`, 'postgres'), '1');
  });
});

describe('after a scheduled backup, and scheduled drills', () => {
  let pg: TestPostgres;
  let app: TestApp;

  before(async () => {
    pg = await startPostgres();
    pg.psql('create table notes (id serial primary key, body text); insert into notes (body) select md5(g::text) from generate_series(1, 500) g', 'postgres');
    app = await startApp(pg.url('postgres'));
  });

  after(async () => {
    await app?.close();
    pg?.stop();
  });

  const tickRows = (kind: string) =>
    pg.psql(`select outcome from backup_admin.schedule_tick where kind = '${kind}' and outcome <> 'running'`, 'postgres').split('\n').filter(Boolean);

  it('verifies when configured and applies retention', async () => {
    const keepOne = { keepLast: 1, maxAgeDays: 0, daily: 0, weekly: 0, monthly: 0 };
    const r = await app.request('PUT', '/backups/config', { token: admin, body: { enabled: true, schedule: '*/2 * * * * *', retention: keepOne, verifyAfterCreate: true } });
    assert.equal(r.status, 200, r.text);
    await until(() => tickRows('backup').length >= 3, 'three scheduled backups', { timeoutMs: 15_000, pollMs: 50 });
    await app.request('PUT', '/backups/config', { token: admin, body: { schedule: null } });
    await until(async () => !(await app.request('GET', '/operations/current', { token: admin })).json.locked, 'the last backup', { timeoutMs: 15_000, pollMs: 50 });

    assert.deepEqual([...new Set(tickRows('backup'))], ['completed']);
    const kept = (await app.request('GET', '/backups?type=scheduled', { token: admin })).json.items;
    assert.equal(kept.length, 1, 'retention (keepLast 1) ran after each scheduled backup');
    assert.ok(kept[0].verifiedAt, 'verified after create');
  });

  it('drills the newest completed backup on the drill schedule', async () => {
    const r = await app.request('PUT', '/backups/config', { token: admin, body: { drillSchedule: '*/2 * * * * *' } });
    assert.equal(r.status, 200, r.text);
    assert.ok(r.json.drillNextRunAt);
    await until(() => tickRows('drill').length >= 1, 'a scheduled drill', { timeoutMs: 10_000, pollMs: 50 });
    await app.request('PUT', '/backups/config', { token: admin, body: { drillSchedule: null } });
    await until(async () => !(await app.request('GET', '/operations/current', { token: admin })).json.locked, 'the last drill', { timeoutMs: 15_000, pollMs: 50 });

    const config = (await app.request('GET', '/backups/config', { token: admin })).json;
    assert.equal(config.lastDrillTick.outcome, 'completed', config.lastDrillTick.detail);
    const drilled = (await app.request('GET', `/backups/${config.lastDrillTick.backupId}`, { token: admin })).json;
    assert.equal(drilled.drill.ok, true);
    assert.deepEqual(drilled.drill.tables.find((t: any) => t.name === 'public.notes'), { name: 'public.notes', expected: 500, actual: 500, exact: true, ok: true });
  });
});

describe('ticks missed while no instance ran', () => {
  let pg: TestPostgres;
  const apps: TestApp[] = [];

  before(async () => {
    pg = await startPostgres();
  });

  after(async () => {
    for (const app of apps) await app.close();
    pg?.stop();
  });

  it('are recorded as skipped by the first instance that starts, once', async () => {
    apps.push(await startApp(pg.url('postgres')));
    await apps[0].request('PUT', '/backups/config', { token: admin, body: { enabled: true, schedule: '0 * * * * *' } });
    await apps.pop()!.close();
    // as if everything had been down for the last 5 minutes, after a tick 6 minutes ago
    pg.psql(`update backup_admin.backup_config set updated_at = now() - interval '10 minutes';
      delete from backup_admin.schedule_tick;
      insert into backup_admin.schedule_tick (kind, scheduled_at, instance_id, claimed_at, outcome)
        values ('backup', date_trunc('minute', now()) - interval '6 minutes', 'gone', now() - interval '6 minutes', 'completed')`);
    apps.push(await startApp(pg.url('postgres')));
    const skipped = () => pg.psql(`select count(*) from backup_admin.schedule_tick where outcome = 'skipped' and detail = 'no instance was running'`);
    await until(() => skipped() !== '0', 'the missed ticks', { timeoutMs: 5000, pollMs: 50 });
    const count = Number(skipped());
    // the ticks 5 to 1 minutes before the last full minute; 6 if a minute turned over meanwhile
    assert.ok(count === 5 || count === 6, `got ${count}`);

    apps.push(await startApp(pg.url('postgres')));
    await sleep(1000);
    assert.equal(Number(skipped()), count, 'a second instance records nothing twice');
  });
});
