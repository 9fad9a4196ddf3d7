import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { createHash, randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Client } from 'pg';
import { advisoryLockKey, LockPurpose } from '../../src/lock/lock.constants';
import { fingerprint } from '../support/fingerprint';
import { MUTATIONS, RICH_FIXTURE } from '../support/fixture';
import { startPostgres, TestPostgres } from '../support/postgres';

const CLI = join(__dirname, '..', '..', 'src', 'cli', 'cli.js');
const SCHEMAS = ['public', 'app', 'Mixed Case', 'created_later'];
const PASSPHRASE = 'correct horse battery staple';

interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
  json: any;
}

/** The compiled CLI as a child process with stdin, stdout and stderr on pipes (no terminal), as cron runs it. */
function cli(args: string[], env: Record<string, string | undefined>, input = ''): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { env: env as NodeJS.ProcessEnv, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => {
      let json: unknown;
      try {
        json = JSON.parse(stdout);
      } catch {
        json = undefined;
      }
      resolve({ code, stdout, stderr, json });
    });
    child.stdin.end(input);
  });
}

/** Without the module's own schema, which the CLI's first run creates and a restore elsewhere does not carry. */
function withoutModuleSchema(print: Record<string, string>): Record<string, string> {
  return { ...print, __objects: print.__objects.split(',').filter((k) => k !== 'schema:backup_admin').join(',') };
}

describe('the pg-backup CLI against a real database', () => {
  let pg: TestPostgres;
  let backupDir: string;
  let env: Record<string, string | undefined>;
  let original: Record<string, string>;
  let first: any;
  let second: any;
  const run = (...args: string[]) => cli(args, env);

  before(async () => {
    pg = await startPostgres();
    pg.psql('create database shop');
    pg.psql(RICH_FIXTURE, 'shop');
    original = fingerprint(pg, 'shop', SCHEMAS);
    backupDir = mkdtempSync(join(tmpdir(), 'pgb-cli-backups-'));
    // only what the CLI needs: no JWT variable, no embedded cluster
    env = {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      DATABASE_URL: pg.url('shop'),
      BACKUP_DIR: backupDir,
      BACKUP_MIN_FREE_MB: '1',
      RESTORE_GRACE_SECONDS: '1',
    };
  });

  after(() => {
    pg?.stop();
    if (backupDir) rmSync(backupDir, { recursive: true, force: true });
  });

  it('exits 2 on usage errors, before connecting', async () => {
    const [unknown, badId, missing, option, limit, noUrl, help] = await Promise.all([
      run('frobnicate'),
      run('show', 'not-a-uuid'),
      run('show'),
      run('list', '--bogus'),
      run('list', '--limit', '0'),
      cli(['list'], { ...env, DATABASE_URL: undefined }),
      run('--help'),
    ]);
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /unknown command 'frobnicate'/);
    assert.equal(badId.code, 2);
    assert.match(badId.stderr, /not a backup id/);
    assert.equal(missing.code, 2, 'missing argument');
    assert.match(missing.stderr, /missing required argument 'id'/);
    assert.equal(option.code, 2, 'unknown option');
    assert.equal(limit.code, 2);
    assert.equal(limit.stderr, 'pg-backup: limit must not be less than 1\n');
    assert.equal(noUrl.code, 2);
    assert.match(noUrl.stderr, /DATABASE_URL must be set/);
    assert.equal(help.code, 0);
    assert.match(help.stdout, /Exit codes: 0 ok, 1 failure, 2 usage/);
    const roles = await run('restore', '00000000-0000-4000-8000-000000000000', '--yes', '--roles', 'maybe');
    assert.equal(roles.code, 2);
    assert.equal(roles.stderr, 'pg-backup: --roles must be one of create, skip, require\n');
  });

  it('create --json: exit 0 and the completed backup as the only thing on stdout', async () => {
    const r = await run('create', '--json', '--notes', 'from the cli', '--tags', 'cli,e2e');
    assert.equal(r.code, 0, r.stderr);
    first = r.json;
    assert.equal(first.status, 'completed');
    assert.equal(first.type, 'manual');
    assert.deepEqual(first.tags, ['cli', 'e2e']);
    assert.equal(first.notes, 'from the cli');
    assert.match(first.createdBy, /^cli:/);
    const file = join(backupDir, first.filename);
    assert.equal(createHash('sha256').update(readFileSync(file)).digest('hex'), first.sha256);
    assert.equal(pg.psql(`select status from backup_admin.backup_history where id = '${first.id}'`, 'shop'), 'completed');
  });

  it('create without a terminal prints plain progress lines, no bar escape codes', async () => {
    const r = await cli(['create'], { ...env, BACKUP_ENCRYPTION_PASSPHRASE: PASSPHRASE });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^backup: started$/m);
    assert.match(r.stdout, /^backup: ended after \d+:\d\d/m);
    const done = /^backup ([0-9a-f-]{36}) completed: (\S+) \(.*, zstd, encrypted\) in /m.exec(r.stdout);
    assert.ok(done, r.stdout);
    assert.ok(existsSync(join(backupDir, done[2])));
    assert.doesNotMatch(r.stdout, /[\r\x1b]/, 'no carriage returns or escape sequences');
    assert.equal(r.stderr, '');
    second = { id: done[1] };
  });

  it('create --no-encrypt on a terminal draws a bar and writes no encryption (stdout a pty through script(1))', { skip: !hasScript() && 'script(1) not installed' }, () => {
    const command = [process.execPath, CLI, 'create', '--no-encrypt'].map((a) => `'${a}'`).join(' ');
    const result = spawnSync('script', ['-qec', command, '/dev/null'], { env: { ...env, BACKUP_ENCRYPTION_PASSPHRASE: PASSPHRASE }, encoding: 'utf8', input: '' });
    assert.equal(result.status, 0, result.stdout);
    assert.match(result.stdout, /backup \[[#·<=> ]+\]/);
    assert.match(result.stdout, /\r\x1b\[K/, 'the bar is redrawn in place and cleared');
    assert.doesNotMatch(result.stdout, /backup: started/);
    assert.match(result.stdout, /backup [0-9a-f-]{36} completed: \S+ \(.*, zstd, not encrypted\)/);
  });

  it('list --limit --json, and the human table', async () => {
    const [two, human] = await Promise.all([run('list', '--limit', '2', '--json'), run('list')]);
    assert.equal(two.code, 0, two.stderr);
    const made = hasScript() ? 3 : 2; // the terminal test's backup too
    assert.equal(two.json.total, made);
    assert.equal(two.json.items.length, 2);
    assert.ok(!two.json.items.some((b: any) => b.id === first.id), 'newest first: the first backup is the third');
    assert.match(human.stdout, /^ID\s+CREATED\s+TYPE\s+STATUS/m);
    assert.match(human.stdout, new RegExp(`^${first.id}\\s.*manual\\s+completed`, 'm'));
    assert.match(human.stdout, new RegExp(`^${made} of ${made} backup\\(s\\)$`, 'm'));
  });

  it('show ID: the backup; an unknown id exits 1', async () => {
    const missing = randomUUID();
    const [human, r] = await Promise.all([run('show', first.id), run('show', missing)]);
    assert.equal(human.code, 0, human.stderr);
    assert.match(human.stdout, new RegExp(`^id:\\s+${first.id}$`, 'm'));
    assert.match(human.stdout, new RegExp(`^file:\\s+${first.filename.replace(/\./g, '\\.')} `, 'm'));
    assert.match(human.stdout, /^tags:\s+cli, e2e$/m);
    assert.match(human.stdout, new RegExp(`^sha256:\\s+${first.sha256}$`, 'm'));
    assert.equal(r.code, 1);
    assert.equal(r.stderr.trim(), `pg-backup: backup ${missing} not found`);
  });

  it('verify ID: 0 when intact, 1 after the file is corrupted', async () => {
    const ok = await run('verify', first.id, '--json');
    assert.equal(ok.code, 0, ok.stderr);
    assert.equal(ok.json.valid, true);
    assert.deepEqual(ok.json.checks.map((c: any) => c.name), ['file', 'sha256', 'decompress', 'dump']);
    const path = join(backupDir, first.filename);
    const good = readFileSync(path);
    const bad = Buffer.from(good);
    bad[Math.floor(bad.length / 2)] ^= 0xff;
    writeFileSync(path, bad);
    try {
      const r = await run('verify', first.id);
      assert.equal(r.code, 1);
      assert.match(r.stdout, /DAMAGED/);
      assert.match(r.stdout, /FAIL\s+sha256/);
      assert.match(r.stderr, /is damaged: sha256/);
      assert.equal(pg.psql(`select damaged from backup_admin.backup_history where id = '${first.id}'`, 'shop'), 't');
    } finally {
      writeFileSync(path, good);
    }
  });

  it('config set key=value … then config get shows it; invalid values exit 2 with the reason', async () => {
    const set = await run('config', 'set', 'schedule=0 3 * * *', 'enabled=true', 'retention.keepLast=14', '--json');
    assert.equal(set.code, 0, set.stderr);
    assert.equal(set.json.schedule, '0 3 * * *');
    assert.equal(set.json.retention.keepLast, 14);
    assert.equal(set.json.retention.daily, 7, 'the other retention fields are kept');
    const [get, one] = await Promise.all([run('config', 'get', '--json'), run('config', 'get', 'schedule')]);
    assert.equal(get.json.schedule, '0 3 * * *');
    assert.equal(get.json.enabled, true);
    assert.match(get.json.updatedBy, /^cli:/);
    assert.equal(one.stdout, '0 3 * * *\n');

    const [cron, unknown, range, both, bare] = await Promise.all([
      run('config', 'set', 'schedule=not a cron'),
      run('config', 'set', 'bogus=1'),
      run('config', 'set', 'retention.keepLast=-1'),
      run('config', 'set', 'intervalMinutes=60'),
      run('config', 'set', 'schedule'),
    ]);
    assert.equal(cron.code, 2);
    assert.match(cron.stderr, /^pg-backup: invalid configuration: schedule: /);
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /property bogus should not exist/);
    assert.equal(range.code, 2);
    assert.match(range.stderr, /retention\.keepLast must not be less than 0/);
    assert.equal(both.code, 2, 'schedule and interval together are refused');
    assert.match(both.stderr, /set either schedule \(cron\) or intervalMinutes/);
    assert.equal(bare.code, 2);
    assert.match(bare.stderr, /expected key=value, got "schedule"/);
    assert.equal(pg.psql(`select schedule || ' ' || (retention->>'keepLast') from backup_admin.backup_config`, 'shop'), '0 3 * * * 14', 'nothing changed');
  });

  it('restore ID --yes restores the live database; without --yes and no terminal it exits 2', async () => {
    pg.psql(MUTATIONS, 'shop');
    const mutated = fingerprint(pg, 'shop', SCHEMAS);
    const refused = await run('restore', first.id);
    assert.equal(refused.code, 2);
    assert.match(refused.stderr, /refusing to restore without --yes when not interactive/);
    assert.deepEqual(fingerprint(pg, 'shop', SCHEMAS), mutated, 'nothing changed');

    const preview = await run('restore', first.id, '--dry-run', '--json');
    assert.equal(preview.code, 0, preview.stderr);
    assert.deepEqual(preview.json.tables.find((t: any) => t.name === 'app.orders'), { name: 'app.orders', current: 4000, backup: 8000, estimated: false });
    assert.ok(preview.json.vanishing.some((o: any) => o.kind === 'TABLE' && o.schema === 'app' && o.name === 'after_backup'));
    const human = await run('restore', first.id, '--dry-run');
    assert.equal(human.code, 0, human.stderr);
    assert.match(human.stdout, /app\.orders\s+4000\s+8000/);
    assert.match(human.stdout, /remove objects made after the backup:\n(.*\n)*\s+TABLE app\.after_backup\n/);
    const combined = await run('restore', first.id, '--dry-run', '--target-db', 'copy');
    assert.equal(combined.code, 2);
    assert.match(combined.stderr, /does not combine with --target-db/);
    assert.deepEqual(fingerprint(pg, 'shop', SCHEMAS), mutated, 'a dry run changes nothing');

    // the role the backup's grants name (reporting) exists: --roles require goes on
    const r = await run('restore', first.id, '--yes', '--roles', 'require', '--json');
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.json.status, 'completed');
    assert.equal(r.json.detail?.roles, undefined, 'no role was missing');
    assert.equal(r.json.backupId, first.id);
    assert.ok(r.json.safetyBackupId, 'a safety backup was taken first');
    assert.deepEqual(withoutModuleSchema(fingerprint(pg, 'shop', SCHEMAS)), withoutModuleSchema(original));
    assert.equal(pg.psql(`select type || ':' || status from backup_admin.backup_history where id = '${r.json.safetyBackupId}'`, 'shop'), 'safety:completed');
  });

  it('restore ID --yes --target-db copy creates copy with the data and leaves the live database alone', async () => {
    pg.psql('delete from app.orders where id > 100; create table public.live_only (x int)', 'shop');
    const live = fingerprint(pg, 'shop', SCHEMAS);
    const r = await run('restore', first.id, '--yes', '--target-db', 'copy', '--json');
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual({ database: r.json.database, created: r.json.created }, { database: 'copy', created: true });
    assert.deepEqual(withoutModuleSchema(fingerprint(pg, 'copy', SCHEMAS)), withoutModuleSchema(original));
    assert.deepEqual(fingerprint(pg, 'shop', SCHEMAS), live, 'the live database is untouched');
    assert.equal(pg.psql(`select count(*) from pg_namespace where nspname = 'backup_admin'`, 'copy'), '0');

    const self = await run('restore', first.id, '--yes', '--target-db', 'shop');
    const again = await run('restore', first.id, '--yes', '--target-db', 'copy');
    assert.equal(again.code, 1, again.stderr);
    assert.match(again.stderr, /database copy already exists and holds \d+ user tables/);
    assert.equal(self.code, 2);
    assert.match(self.stderr, /names the live database/);
  });

  it('contents ID lists the tables; restore --table --into-schema puts one beside the live one; an unknown table exits 1 naming it', async () => {
    const contents = await run('contents', first.id, '--json');
    assert.equal(contents.code, 0, contents.stderr);
    assert.ok(contents.json.tables.some((t: any) => t.schema === 'app' && t.name === 'orders' && t.rows === 8000), JSON.stringify(contents.json.tables));
    const human = await run('contents', first.id);
    assert.match(human.stdout, /app\.orders\s+8000/);

    const live = fingerprint(pg, 'shop', SCHEMAS);
    const beside = await run('restore', first.id, '--yes', '--table', 'app.orders', '--into-schema', 'old_orders', '--json');
    assert.equal(beside.code, 0, beside.stderr);
    assert.deepEqual(beside.json.detail.target, { schema: 'old_orders' });
    assert.equal(pg.psql('select count(*) from old_orders.orders', 'shop'), '8000');
    pg.psql('drop schema old_orders cascade', 'shop');
    assert.deepEqual(fingerprint(pg, 'shop', SCHEMAS), live, 'the live objects are untouched');

    const unknown = await run('restore', first.id, '--yes', '--table', 'app.nope');
    assert.equal(unknown.code, 1, unknown.stderr);
    assert.match(unknown.stderr, /holds no app\.nope/);
  });

  it('restore on a terminal asks for the database name: a wrong answer changes nothing, the right one restores', { skip: !hasScript() && 'script(1) not installed' }, () => {
    const onTerminal = (args: string[], answer: string) =>
      spawnSync('script', ['-qec', [process.execPath, CLI, ...args].map((a) => `'${a}'`).join(' '), '/dev/null'], {
        env: env as NodeJS.ProcessEnv,
        encoding: 'utf8',
        input: `${answer}\n`,
      });
    const live = fingerprint(pg, 'shop', SCHEMAS);
    const refused = onTerminal(['restore', first.id], 'shopp');
    assert.equal(refused.status, 1, refused.stdout);
    assert.match(refused.stdout, /Type the database name \(shop\) to replace its content:/);
    assert.match(refused.stdout, /not confirmed; nothing was changed/);
    assert.deepEqual(fingerprint(pg, 'shop', SCHEMAS), live);
    const confirmed = onTerminal(['restore', first.id, '--target-db', 'copy2'], 'copy2');
    assert.equal(confirmed.status, 0, confirmed.stdout);
    assert.match(confirmed.stdout, /restored into database copy2 \(created for it\)/);
    assert.equal(pg.psql('select count(*) from app.orders', 'copy2'), '8000');
  });

  it('drill ID: exit 0 with the per-table results', async () => {
    const r = await run('drill', first.id, '--json');
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.json.ok, true);
    assert.ok(r.json.tables.length >= 4);
    assert.ok(r.json.tables.every((t: any) => t.ok));
    assert.equal(r.json.tables.find((t: any) => t.name === 'app.orders').actual, 8000);
    assert.equal(pg.psql(`select count(*) from pg_database where datname like 'shop_drill_%'`), '0', 'scratch database dropped');
  });

  it('cleanup --dry-run --json previews retention and deletes nothing; stats --json counts', async () => {
    const count = () => Number(pg.psql('select count(*) from backup_admin.backup_history', 'shop'));
    const total = count();
    const set = await run('config', 'set', 'retention={"keepLast":1,"maxAgeDays":0,"daily":0,"weekly":0,"monthly":0}');
    assert.equal(set.code, 0, set.stderr);
    const r = await run('cleanup', '--dry-run', '--json');
    assert.equal(r.code, 0, r.stderr);
    const doomed = r.json.delete.map((b: any) => b.id);
    assert.ok(doomed.includes(first.id) && doomed.includes(second.id), JSON.stringify(r.json));
    assert.ok(r.json.keep.some((k: any) => k.reasons.includes('safety')), 'the safety backup stays');
    assert.equal(count(), total, 'a dry run deletes nothing');

    // BACKUP_ON_STARTUP is the server's: the CLI runs no automation (PgBackupOptions.runSchedules false)
    const stats = await cli(['stats', '--json'], { ...env, BACKUP_ON_STARTUP: 'true' });
    assert.equal(stats.code, 0, stats.stderr);
    assert.equal(pg.psql('select count(*) from backup_admin.schedule_tick', 'shop'), '0', 'no startup backup claimed');
    assert.equal(stats.json.count, total);
    assert.equal(stats.json.byStatus.completed, total);
    assert.equal(stats.json.lastDrill.backupId, first.id);
  });

  it('exits 3 with the holder when a server-side operation holds the lock', async () => {
    const key = advisoryLockKey('backup_admin', LockPurpose.Operation);
    const holder = new Client({ connectionString: pg.url('shop') });
    await holder.connect();
    try {
      await holder.query('SELECT pg_advisory_lock($1, $2)', [key.classId, key.objectId]);
      await holder.query(`INSERT INTO backup_admin.operation_lock (name, type, operation_id, started_by, started_at, holder_pid, instance_id, updated_at)
        VALUES ('operation', 'backup', gen_random_uuid(), 'server-alice', now(), pg_backend_pid(), 'server', now())`);
      const files = readdirSync(backupDir).length;
      const [r, restore] = await Promise.all([run('create', '--json'), run('restore', first.id, '--yes')]);
      assert.equal(r.code, 3, r.stderr);
      assert.match(r.stderr, /^pg-backup: another backup or restore is running: backup [0-9a-f-]{36} started by server-alice at /);
      assert.equal(r.json.exitCode, 3);
      assert.equal(readdirSync(backupDir).length, files, 'no file written');
      assert.equal(restore.code, 3, restore.stderr);
    } finally {
      await holder.end();
    }
    assert.equal(pg.psql(`select count(*) from backup_admin.backup_history where status = 'running'`, 'shop'), '0');
  });

  it('delete ID removes file and row; import registers a backup from its manifest again', async () => {
    const r = await run('delete', second.id, '--json');
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.json.deleted, second.id);
    assert.ok(!existsSync(join(backupDir, r.json.filename)));
    assert.ok(!existsSync(join(backupDir, `${r.json.filename}.json`)));
    const row = (id: string) => pg.psql(`select coalesce(max(sha256), 'none') from backup_admin.backup_history where id = '${id}'`, 'shop');
    assert.equal(row(second.id), 'none');

    pg.psql(`delete from backup_admin.backup_history where id = '${first.id}'`, 'shop');
    const imported = await run('import', '--json');
    assert.equal(imported.code, 0, imported.stderr);
    assert.deepEqual(imported.json.imported, [first.filename]);
    assert.equal(row(first.id), first.sha256);
  });

  it('records what it did in the audit log, as the CLI user', () => {
    const actions = pg.psql(`select distinct action from backup_admin.audit_log where actor like 'cli:%' and detail->>'via' = 'cli' order by 1`, 'shop');
    assert.deepEqual(actions.split('\n'), ['backup.create', 'backup.delete', 'backup.drill', 'backup.import', 'backup.restore', 'backup.verify', 'config.update']);
    assert.equal(pg.psql(`select count(*) from backup_admin.audit_log where action = 'backup.verify' and outcome = 'failure'`, 'shop'), '1');
  });
});

function hasScript(): boolean {
  return spawnSync('script', ['--version']).status === 0;
}
