#!/usr/bin/env node
// npm run bench [-- --scale 1 --runs 3]
// Measures our backup and restore next to pg_dump/pg_restore on a generated database, in one run,
// alternating the order of the contenders; prints a table and writes bench/results.json.
// A measuring tool, not a test: it never fails on a number.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { chmodSync, chownSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { cpus, tmpdir, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const arg = (name, fallback) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
};
const SCALE = arg('scale', 1);
const RUNS = arg('runs', 3);
const isRoot = process.getuid?.() === 0;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const asPg = (cmd, args) => (isRoot ? ['runuser', ['-u', 'postgres', '--', cmd, ...args]] : [cmd, args]);
const bin = execFileSync('pg_config', ['--bindir'], { encoding: 'utf8' }).trim();

function freePort() {
  return new Promise((resolve) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => { const { port } = s.address(); s.close(() => resolve(port)); });
  });
}

function run(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 1 << 26, ...opts });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

async function startCluster() {
  const dir = mkdtempSync(join(tmpdir(), 'pgb-bench-'));
  chmodSync(dir, 0o755);
  if (isRoot) chownSync(dir, Number(run('id', ['-u', 'postgres'])), Number(run('id', ['-g', 'postgres'])));
  const port = await freePort();
  run(...asPg(join(bin, 'initdb'), ['-D', join(dir, 'data'), '-A', 'trust', '-U', 'postgres', '--no-sync']));
  run(...asPg(join(bin, 'pg_ctl'), ['-D', join(dir, 'data'), '-l', join(dir, 'log'), '-w', '-o',
    `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c shared_buffers=1GB -c max_wal_size=8GB -c checkpoint_timeout=30min`, 'start']));
  const psql = (sql, db = 'postgres') => run('psql', ['-h', '127.0.0.1', '-p', String(port), '-U', 'postgres', '-d', db, '-X', '-q', '-t', '-A', '-v', 'ON_ERROR_STOP=1'], { input: sql }).trim();
  return { dir, port, psql, url: (db) => `postgres://postgres@127.0.0.1:${port}/${db}`,
    stop: () => { spawnSync(...asPg(join(bin, 'pg_ctl'), ['-D', join(dir, 'data'), '-m', 'fast', 'stop'])); rmSync(dir, { recursive: true, force: true }); } };
}

/** ~SCALE GB on disk: text, jsonb, incompressible bytes, indexes, foreign keys. */
function generate(pg) {
  const n = Math.round(SCALE * 2_800_000);
  pg.psql('create database bench');
  pg.psql(`
    create extension pgcrypto;
    create table customers (id bigint primary key, email text not null, name text, country char(2), created_at timestamptz);
    insert into customers select g, 'user' || g || '@example.com', 'Customer ' || md5(g::text), (array['DE','US','FR','JP'])[1 + g % 4], now() - g * interval '1 minute'
      from generate_series(1, ${Math.round(n / 10)}) g;
    create table events (id bigint primary key, customer_id bigint references customers(id), kind text, body text, attrs jsonb, at timestamptz);
    insert into events select g, 1 + g % ${Math.round(n / 10)}, (array['view','click','buy','refund'])[1 + g % 4],
        repeat(md5(g::text), 2) || ' lorem ipsum dolor sit amet ' || (g % 1000),
        jsonb_build_object('n', g, 'ok', g % 2 = 0, 'tags', jsonb_build_array('a', 'b', g % 7)), now() - g * interval '1 second'
      from generate_series(1, ${n}) g;
    create index events_customer_idx on events (customer_id);
    create index events_at_idx on events (at);
    create table blobs (id bigint primary key, data bytea);
    insert into blobs select g, decode(repeat(md5(random()::text) || md5(random()::text), 4), 'hex') || gen_random_bytes(128)
      from generate_series(1, ${Math.round(n / 8)}) g;
    vacuum analyze;`, 'bench');
  return Number(pg.psql(`select pg_database_size('bench')`));
}

function timeCommand(shell) {
  const t = process.hrtime.bigint();
  run('bash', ['-o', 'pipefail', '-c', shell]);
  return Number(process.hrtime.bigint() - t) / 1e9;
}

function token(secret) {
  const b = (v) => Buffer.from(JSON.stringify(v)).toString('base64url');
  const now = Math.floor(Date.now() / 1000);
  const u = `${b({ alg: 'HS256', typ: 'JWT' })}.${b({ sub: 'bench', roles: ['admin'], iat: now, exp: now + 86400 })}`;
  return `${u}.${createHmac('sha256', secret).update(u).digest('base64url')}`;
}

async function startServer(pg, backupDir, env = {}) {
  const port = await freePort();
  const secret = 'bench-secret-0123456789';
  const child = spawn(process.execPath, [join(root, 'dist/src/main.js')], {
    env: { ...process.env, DATABASE_URL: pg.url('bench'), PORT: String(port), BACKUP_DIR: backupDir, JWT_SECRET: secret, LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  const base = `http://127.0.0.1:${port}/api/admin`;
  const auth = { authorization: `Bearer ${token(secret)}`, 'content-type': 'application/json' };
  for (;;) { try { await fetch(`${base}/operations/current`); break; } catch { await sleep(200); } }
  let peak = 0;
  const sampler = setInterval(() => {
    try { peak = Math.max(peak, Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'))[1]) * 1024); } catch { /* gone */ }
  }, 50);
  const call = async (method, path, body) => (await fetch(`${base}${path}`, { method, headers: auth, body: body && JSON.stringify(body) })).json();
  const wait = async (path) => { for (;;) { const r = await call('GET', path); if (r.status !== 'running') return r; await sleep(100); } };
  return {
    resetPeak: () => { peak = 0; },
    peak: () => peak,
    async backup() { const r = await call('POST', '/backups', {}); return wait(`/backups/${r.id}`); },
    async restore(id) { const r = await call('POST', `/backups/${id}/restore`, { confirm: true }); return wait(`/restores/${r.id}`); },
    get: (id) => call('GET', `/backups/${id}`),
    async drill(id) {
      const before = (await call('GET', `/backups/${id}`)).drill?.at;
      await call('POST', `/backups/${id}/drill`);
      for (;;) {
        const b = await call('GET', `/backups/${id}`);
        if (b.drill && b.drill.at !== before && !(await call('GET', '/operations/current')).locked) return b.drill;
        await sleep(100);
      }
    },
    stop: async () => { clearInterval(sampler); child.kill('SIGTERM'); await new Promise((r) => child.once('exit', r)); },
  };
}

const median = (xs) => { const s = [...xs].sort((a, b) => a - b); return s[Math.floor(s.length / 2)]; };
const fmt = (xs) => `${median(xs).toFixed(2)} s (${Math.min(...xs).toFixed(2)}–${Math.max(...xs).toFixed(2)})`;

async function main() {
  run('npm', ['run', 'build', '--silent'], { cwd: root });
  const pg = await startCluster();
  const work = mkdtempSync(join(tmpdir(), 'pgb-bench-files-'));
  const conn = `-h 127.0.0.1 -p ${pg.port} -U postgres`;
  try {
    console.log(`generating a ~${SCALE} GB database…`);
    const dbBytes = generate(pg);
    console.log(`database: ${(dbBytes / 1e9).toFixed(2)} GB on disk; ${RUNS} runs each`);
    const server = await startServer(pg, join(work, 'backups'));
    // the same server with age encryption to an X25519 recipient (a throwaway key)
    const keygen = run('age-keygen', []);
    const recipient = /public key: (age1\S+)/.exec(keygen)?.[1] ?? /^# public key: (\S+)/m.exec(keygen)[1];
    const encrypted = await startServer(pg, join(work, 'backups-encrypted'), { BACKUP_AGE_RECIPIENTS: recipient });
    const times = { dumpFc: [], dumpZ0: [], ours: [], oursEncrypted: [], restoreRef: [], oursRestore: [], oursRestoreTotal: [], drill: [], drillRestore: [] };
    const sizes = {};
    let peakBackup = 0;
    let peakRestore = 0;
    const refs = {
      dumpFc: () => { times.dumpFc.push(timeCommand(`pg_dump ${conn} -Fc -f ${work}/fc.dump bench`)); sizes.dumpFc = statSync(`${work}/fc.dump`).size; },
      dumpZ0: () => { times.dumpZ0.push(timeCommand(`pg_dump ${conn} -Fc -Z0 -f ${work}/z0.dump bench`)); sizes.dumpZ0 = statSync(`${work}/z0.dump`).size; },
      ours: async () => {
        server.resetPeak();
        const b = await server.backup();
        if (b.status !== 'completed') throw new Error(`backup failed: ${b.error}`);
        times.ours.push(b.durationMs / 1000);
        sizes.ours = b.sizeBytes;
        peakBackup = Math.max(peakBackup, server.peak());
        return b;
      },
    };
    refs.oursEncrypted = async () => {
      encrypted.resetPeak();
      const b = await encrypted.backup();
      if (b.status !== 'completed') throw new Error(`encrypted backup failed: ${b.error}`);
      times.oursEncrypted.push(b.durationMs / 1000);
      sizes.oursEncrypted = b.sizeBytes;
      peakBackup = Math.max(peakBackup, encrypted.peak());
    };
    await refs.ours(); // warm-up: caches and the server's code paths
    await refs.oursEncrypted();
    times.ours.length = 0;
    times.oursEncrypted.length = 0;
    for (let i = 0; i < RUNS; i++) {
      const order = i % 2 ? ['oursEncrypted', 'ours', 'dumpZ0', 'dumpFc'] : ['dumpFc', 'dumpZ0', 'ours', 'oursEncrypted'];
      for (const name of order) await refs[name]();
    }
    const last = await server.backup();
    for (let i = 0; i < RUNS; i++) {
      pg.psql('drop database if exists restored'); pg.psql('create database restored');
      times.restoreRef.push(timeCommand(`pg_restore ${conn} -d restored --single-transaction --exit-on-error ${work}/fc.dump`));
      server.resetPeak();
      const r = await server.restore(last.id);
      if (r.status !== 'completed') throw new Error(`restore failed: ${r.error}`);
      const safety = await server.get(r.safetyBackupId);
      times.oursRestoreTotal.push(r.durationMs / 1000);
      times.oursRestore.push((r.durationMs - safety.durationMs) / 1000);
      peakRestore = Math.max(peakRestore, server.peak());
    }
    let drillTables = 0;
    for (let i = 0; i < RUNS; i++) {
      const d = await server.drill(last.id);
      if (!d.ok) throw new Error(`drill failed: ${d.error}`);
      times.drill.push(d.durationMs / 1000);
      times.drillRestore.push(d.restoreMs / 1000);
      drillTables = d.tables.filter((t) => t.exact).length;
    }
    await server.stop();
    await encrypted.stop();
    const ratio = (a, b) => (median(times[a]) / median(times[b])).toFixed(2);
    const rows = [
      ['pg_dump -Fc', fmt(times.dumpFc), sizes.dumpFc, ''],
      ['pg_dump -Fc -Z0', fmt(times.dumpZ0), sizes.dumpZ0, ''],
      ['our backup (default settings)', fmt(times.ours), sizes.ours, `${ratio('ours', 'dumpZ0')}× of -Z0, ${(median(times.dumpFc) / median(times.ours)).toFixed(2)}× faster than -Fc`],
      ['our backup, age-encrypted', fmt(times.oursEncrypted), sizes.oursEncrypted, `${ratio('oursEncrypted', 'dumpZ0')}× of -Z0`],
      ['pg_restore -1 -e (of -Fc)', fmt(times.restoreRef), '', ''],
      ['our restore (restore part)', fmt(times.oursRestore), '', `${ratio('oursRestore', 'restoreRef')}× of pg_restore`],
      ['our restore (with safety backup)', fmt(times.oursRestoreTotal), '', ''],
      ['our drill (scratch database, restore, count, drop)', fmt(times.drill), '', `restore part ${fmt(times.drillRestore)}; ${drillTables} tables compared exactly`],
    ];
    console.log('\n| what | time, median (min–max) | size | ratio |\n|---|---|---|---|');
    for (const [what, t, size, r] of rows) console.log(`| ${what} | ${t} | ${size ? `${(size / 1e6).toFixed(0)} MB` : ''} | ${r} |`);
    console.log(`\npeak server RSS: backup ${(peakBackup / 1e6).toFixed(0)} MB, restore ${(peakRestore / 1e6).toFixed(0)} MB`);
    const results = {
      date: new Date().toISOString(), machine: { cpus: cpus().length, cpu: cpus()[0]?.model, memory: totalmem() },
      versions: { node: process.version, pg_dump: run('pg_dump', ['--version']).trim() },
      scale: SCALE, databaseBytes: dbBytes, runs: RUNS, times, sizes, peakRssBytes: { backup: peakBackup, restore: peakRestore },
    };
    writeFileSync(join(root, 'bench', 'results.json'), JSON.stringify(results, null, 2));
  } finally {
    pg.stop();
    rmSync(work, { recursive: true, force: true });
  }
}

await main();
