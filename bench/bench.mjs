#!/usr/bin/env node
// npm run bench [-- --scale 1 --runs 3]      the full measurement (~1 GB database, 3 runs)
// npm run bench -- --quick                    a smoke run: --scale 0.1 --runs 1
// npm run bench -- --only backups,restores     some phases only (backups, restores, drills, manytables, latency, tables)
// npm run bench -- --only manytables --tables 500   the many-tables case with fewer tables (default 2,000)
// npm run bench -- --quick --only dr           disaster recovery: import and restore onto a second, new cluster that lacks the roles
// BENCH_SERVER_NODE_ARGS='--cpu-prof'          extra node flags for the servers (profiling)
//
// Measures our backup and restore next to pg_dump/pg_restore on a database it generates, against
// a PostgreSQL cluster it starts, in one run: every phase starts with one discarded warm-up round,
// then the contenders run in alternating order (forward, backward, …). Also: the server's peak
// RSS, CPU seconds per process (to show which resource limits a figure), and API latency under
// load while a backup runs. Prints tables and writes bench/results.json.
// A measuring tool, not a test: it never fails on a number.
import autocannon from 'autocannon';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { chmodSync, chownSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { cpus, release, tmpdir, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pgLib from 'pg';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const arg = (name, fallback) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
};
const QUICK = process.argv.includes('--quick');
const SCALE = arg('scale', QUICK ? 0.1 : 1);
const RUNS = arg('runs', QUICK ? 1 : 3);
const onlyIndex = process.argv.indexOf('--only');
const PHASES = new Set(onlyIndex > 0 ? process.argv[onlyIndex + 1].split(',') : ['backups', 'restores', 'drills', 'manytables', 'latency', 'tables', 'dr']);
/** The many-tables phase: tables (each with a serial key, so as many sequences) on a server with the default lock table. */
const MANY_TABLES = arg('tables', 2000);
const CORES = cpus().length;
/** The latency phase: concurrent connections, seconds of load per route and situation, history rows. */
const CONNECTIONS = 50;
const LOAD_SECONDS = QUICK ? 3 : 10;
const HISTORY_ROWS = 10_000;
/** How often /proc is read for RSS and CPU. */
const SAMPLE_MS = 50;
const CLK_TCK = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }));
const OUT = join(root, 'bench', QUICK ? 'results-quick.json' : 'results.json');

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

const firstLine = (cmd, args) => { try { return run(cmd, args).split('\n')[0].trim(); } catch { return null; } };

// ---------------------------------------------------------------------------------------------
// The cluster and the data

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
    postmasterPid: Number(readFileSync(join(dir, 'data', 'postmaster.pid'), 'utf8').split('\n')[0]),
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

/**
 * 10,000 completed rows in the backup history, as the API's list sees them after ~14 months of
 * hourly backups: file names in the module's pattern, sizes, hashes, and the metadata (per-table
 * row counts) of a real backup of this database. Marked by created_by so they can be deleted.
 */
function insertHistory(pg, templateId) {
  pg.psql(`
    insert into backup_admin.backup_history
      (id, status, type, filename, size_bytes, sha256, compression, encrypted, created_by, created_at, finished_at, duration_ms, verified_at, metadata)
    select id, 'completed', type,
        'bench-' || type || '-' || to_char(t at time zone 'UTC', 'YYYYMMDD"T"HH24MISS"Z"') || '-' || left(id::text, 8) || '.dump.zst',
        150000000 + (g * 7919) % 40000000, encode(sha256(g::text::bytea), 'hex'), 'zstd', false, 'bench-latency',
        t, t + interval '6 seconds', 6000 + g % 3000, case when g % 10 = 0 then t + interval '1 day' end,
        (select metadata from backup_admin.backup_history where id = '${templateId}')
      from (select g, gen_random_uuid() as id, now() - g * interval '1 hour' as t,
                   (array['scheduled','scheduled','scheduled','manual','safety'])[1 + g % 5] as type
              from generate_series(1, ${HISTORY_ROWS}) g) s`, 'bench');
}

/** `count` small tables with a serial primary key and 10 rows each, 100 per transaction (one transaction could not lock them all). */
function generateManyTables(pg, db, count) {
  pg.psql(`create database ${db}`);
  for (let from = 1; from <= count; from += 100) {
    pg.psql(`DO $$ BEGIN FOR i IN ${from}..${Math.min(from + 99, count)} LOOP
      EXECUTE format('CREATE TABLE t%s (id serial PRIMARY KEY, name text, at timestamptz DEFAULT now())', i);
      EXECUTE format('INSERT INTO t%s (name) SELECT md5(g::text) FROM generate_series(1, 10) g', i);
    END LOOP; END $$`, db);
  }
}

const deleteHistory = (pg) => pg.psql(`delete from backup_admin.backup_history where created_by = 'bench-latency'`, 'bench');

// ---------------------------------------------------------------------------------------------
// Our server, driven through its API

function token(secret) {
  const b = (v) => Buffer.from(JSON.stringify(v)).toString('base64url');
  const now = Math.floor(Date.now() / 1000);
  const u = `${b({ alg: 'HS256', typ: 'JWT' })}.${b({ sub: 'bench', roles: ['admin'], iat: now, exp: now + 86400 })}`;
  return `${u}.${createHmac('sha256', secret).update(u).digest('base64url')}`;
}

async function startServer(pg, backupDir, env = {}) {
  const port = await freePort();
  const secret = 'bench-secret-0123456789';
  const child = spawn(process.execPath, [...(process.env.BENCH_SERVER_NODE_ARGS?.split(' ').filter(Boolean) ?? []), join(root, 'dist/src/main.js')], {
    env: { ...process.env, DATABASE_URL: pg.url('bench'), PORT: String(port), BACKUP_DIR: backupDir, JWT_SECRET: secret, LOG_LEVEL: 'warn',
      // the latency phase is a load test of one token from one address: no rate limit
      ADMIN_RATE_LIMIT_PER_MINUTE: '0', ADMIN_RATE_LIMIT_PER_ADDRESS_PER_MINUTE: '0', BACKUP_RATE_LIMIT_PER_HOUR: '0', ...env },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  child.once('exit', (code, signal) => { if (!stopping) console.error(`server ${child.pid} exited unexpectedly: code ${code}, signal ${signal}`); });
  let stopping = false;
  const base = `http://127.0.0.1:${port}/api/admin`;
  const headers = { authorization: `Bearer ${token(secret)}`, 'content-type': 'application/json' };
  for (;;) { try { await fetch(`${base}/operations/current`); break; } catch { await sleep(200); } }
  // peak RSS of the server process, sampled (not estimated) from /proc
  const rss = () => { try { return Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'))[1]) * 1024; } catch { return 0; } };
  let peak = 0;
  const sampler = setInterval(() => { peak = Math.max(peak, rss()); }, SAMPLE_MS);
  const call = async (method, path, body) => {
    // a keep-alive socket left idle while other contenders ran may be closed by the server just as
    // it is reused: a throwaway GET first takes that hit, so the POST goes on a live connection;
    // a request that still meets a closed socket (EPIPE on write: never received) is sent again
    if (method !== 'GET') await fetch(`${base}/operations/current`, { headers }).then((r) => r.arrayBuffer(), () => undefined);
    const send = () => fetch(`${base}${path}`, { method, headers, body: body && JSON.stringify(body) });
    const response = await send().catch((error) => {
      if (['EPIPE', 'ECONNRESET'].includes(error?.cause?.code)) return send();
      throw error;
    });
    return response.json();
  };
  const wait = async (path) => { for (;;) { const r = await call('GET', path); if (r.status !== 'running') return r; await sleep(100); } };
  /**
   * Wall time as a client sees it: from just before the POST to the server's finishedAt (same
   * machine, same clock), so it includes the API's own preparation and no polling delay.
   */
  const timed = async (start) => { const t0 = Date.now(); const r = await start(); return { ...r, seconds: (Date.parse(r.finishedAt) - t0) / 1000 }; };
  return {
    pid: child.pid, base, headers,
    resetPeak: () => { peak = 0; },
    peak: () => peak,
    rss,
    backup: () => timed(async () => { const r = await call('POST', '/backups', {}); return wait(`/backups/${r.id}`); }),
    restore: (id, safetyBackup, scope = {}) => timed(async () => {
      const r = await call('POST', `/backups/${id}/restore`, { confirm: true, safetyBackup, ...scope });
      if (!r.id) throw new Error(`restore refused: ${JSON.stringify(r)}`);
      return wait(`/restores/${r.id}`);
    }),
    get: (id) => call('GET', `/backups/${id}`),
    importAll: () => call('POST', '/backups/import'),
    current: () => call('GET', '/operations/current'),
    async drill(id) {
      const before = (await call('GET', `/backups/${id}`)).drill?.at;
      await call('POST', `/backups/${id}/drill`);
      for (;;) {
        const b = await call('GET', `/backups/${id}`);
        if (b.drill && b.drill.at !== before && !(await call('GET', '/operations/current')).locked) return b.drill;
        await sleep(100);
      }
    },
    stop: async () => { clearInterval(sampler); stopping = true; child.kill('SIGTERM'); await new Promise((r) => child.once('exit', r)); },
  };
}

// ---------------------------------------------------------------------------------------------
// Timing helpers

/** Wall time of a shell command (pipefail: a failing pg_dump in a pipe fails the command). */
function timeShell(shell) {
  const t = process.hrtime.bigint();
  run('bash', ['-o', 'pipefail', '-c', shell]);
  return Number(process.hrtime.bigint() - t) / 1e9;
}

/** Runs a command without blocking the event loop (so the samplers keep sampling); resolves with its wall time. */
function spawnTimed(cmd, args, onSpawn = () => {}) {
  return new Promise((resolve, reject) => {
    const t = process.hrtime.bigint();
    const child = spawn(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    onSpawn(child.pid);
    let stderr = '';
    child.stderr.on('data', (d) => { stderr += d; });
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve(Number(process.hrtime.bigint() - t) / 1e9) : reject(new Error(`${cmd} exited ${code}: ${stderr}`))));
  });
}

const dirBytes = (dir) => readdirSync(dir).reduce((sum, f) => sum + statSync(join(dir, f)).size, 0);
const median = (xs) => { const s = [...xs].sort((a, b) => a - b); const m = s.length >> 1; return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2; };
const fmt = (xs) => (xs.length > 1 ? `${median(xs).toFixed(2)} s (${Math.min(...xs).toFixed(2)}–${Math.max(...xs).toFixed(2)})` : `${xs[0].toFixed(2)} s`);
const mb = (bytes) => `${(bytes / 1e6).toFixed(0)} MB`;

/**
 * One warm-up round (discarded), then `runs` rounds, the order reversed every other round so no
 * contender always runs first (cold) or right after the same neighbour.
 */
async function rounds(contenders, runs, onRound = () => {}) {
  for (const c of contenders) await c.run(true);
  for (let i = 0; i < runs; i++) {
    onRound(i);
    for (const c of i % 2 ? [...contenders].reverse() : contenders) await c.run(false);
  }
}

// ---------------------------------------------------------------------------------------------
// CPU seconds per process, from /proc

/** A process's name, parent, CPU seconds (utime+stime) and start time, from /proc/<pid>/stat; null once gone. */
function procStat(pid) {
  try {
    const s = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const close = s.lastIndexOf(')'); // the name may contain spaces and parentheses
    const f = s.slice(close + 2).split(' '); // f[k - 3] is field k of proc(5)
    return { name: s.slice(s.indexOf('(') + 1, close), ppid: Number(f[1]), cpu: (Number(f[11]) + Number(f[12])) / CLK_TCK, started: f[19] };
  } catch { return null; }
}

function processTable() {
  const table = new Map();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const s = procStat(entry);
    if (s) table.set(Number(entry), s);
  }
  return table;
}

/** The process title PostgreSQL gives its processes ("postgres: checkpointer", …). */
const procTitle = (pid) => { try { return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ').trim(); } catch { return ''; } };

/** Machine-wide CPU seconds (all cores) from the first line of /proc/stat. */
function machineCpu() {
  const [user, nice, system, idle, iowait, irq, softirq, steal] = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
  return { busy: (user + nice + system + irq + softirq + steal) / CLK_TCK, iowait: iowait / CLK_TCK, idle: idle / CLK_TCK };
}

/**
 * CPU seconds per process while `fn(track)` runs. `track(pid)` names a process whose whole tree
 * counts (our server, or a reference tool). Every SAMPLE_MS, every process of those trees and
 * every child of the postmaster is read from /proc and the last value seen per pid is kept: a
 * process that exits loses at most its last SAMPLE_MS; one that existed before counts from its
 * value at the start. PostgreSQL backends are named by their application_name, looked up in
 * pg_stat_activity (by `monitor`, a connection to another database, whose own backend is left
 * out); other PostgreSQL processes by their process title.
 */
async function cpuProfile(pg, monitor, fn) {
  pg.psql('checkpoint'); // from a clean state, like the timed rounds
  run('sync', []);
  const roots = new Set();
  const monitorPid = (await monitor.query('select pg_backend_pid() as pid')).rows[0].pid;
  const first = processTable();
  const seen = new Map(); // pid → { name, cpu, started }
  const labels = new Map(); // pid → label
  const inTree = (pid, table) => {
    for (let p = pid, hops = 0; p > 1 && hops < 32; p = table.get(p)?.ppid, hops++) if (roots.has(p)) return true;
    return false;
  };
  const sample = () => {
    const table = processTable();
    for (const [pid, s] of table) {
      if (pid === monitorPid) continue;
      if (s.ppid === pg.postmasterPid) {
        // a client backend's title is "postgres: user db host(port) …"; its application_name, once polled, names it better
        if (!labels.has(pid)) { const title = procTitle(pid); labels.set(pid, /\(\d+\)/.test(title) ? 'postgres: client backend (unnamed)' : title || 'postgres'); }
      } else if (inTree(pid, table)) {
        if (!labels.has(pid)) labels.set(pid, roots.has(pid) && s.name === 'node' ? 'node (our server)' : s.name);
      } else continue;
      seen.set(pid, s);
    }
  };
  // which backend serves whom: pg_stat_activity, polled without blocking the samples
  let polling = true;
  const poller = (async () => {
    while (polling) {
      const r = await monitor.query(`select pid, application_name from pg_stat_activity where backend_type = 'client backend' and application_name <> ''`);
      for (const row of r.rows) if (row.pid !== monitorPid) labels.set(row.pid, `postgres ← ${row.application_name.replace(/:[0-9a-f-]{36}$/, '')}`);
      await sleep(100);
    }
  })();
  const machineBefore = machineCpu();
  const benchBefore = procStat(process.pid).cpu;
  const t0 = process.hrtime.bigint();
  const timer = setInterval(sample, SAMPLE_MS);
  try {
    await fn((pid) => { roots.add(pid); sample(); });
  } finally {
    clearInterval(timer);
  }
  const wall = Number(process.hrtime.bigint() - t0) / 1e9;
  sample();
  const machineAfter = machineCpu();
  const benchCpu = procStat(process.pid).cpu - benchBefore;
  polling = false;
  await poller;
  const perLabel = {};
  for (const [pid, s] of seen) {
    const before = first.get(pid);
    const cpu = s.cpu - (before && before.started === s.started ? before.cpu : 0);
    const label = labels.get(pid);
    perLabel[label] = (perLabel[label] ?? 0) + cpu;
  }
  const processes = Object.entries(perLabel).filter(([, cpu]) => cpu >= 0.005).sort((a, b) => b[1] - a[1])
    .map(([label, cpu]) => ({ process: label, cpuSeconds: round(cpu), ofWall: round(cpu / wall) }));
  const total = (k) => machineAfter[k] - machineBefore[k];
  const machineTotal = total('busy') + total('iowait') + total('idle');
  const totalCpuSeconds = processes.reduce((s, p) => s + p.cpuSeconds, 0);
  return {
    wallSeconds: round(wall), cores: CORES, processes, totalCpuSeconds: round(totalCpuSeconds),
    // the whole machine over the same wall time: busy, waiting for the disk, idle (shares of all cores)
    machine: { busy: round(total('busy') / machineTotal), iowait: round(total('iowait') / machineTotal), idle: round(total('idle') / machineTotal) },
    // CPU the list above does not explain: this script (sampling, polling) and anything else on the machine
    benchCpuSeconds: round(benchCpu),
    elsewhereCpuSeconds: round(Math.max(0, total('busy') - totalCpuSeconds - benchCpu)),
  };
}

const round = (x, digits = 3) => Number(x.toFixed(digits));

// ---------------------------------------------------------------------------------------------
// API latency under load, while backups run

/**
 * CONNECTIONS concurrent clients for LOAD_SECONDS on one route (autocannon's latencies are in ms),
 * with the CPU each side used meanwhile, as a share of the wall time (1.00 = one core): our
 * server's node process, its children (a backup's pg_dump and zstd), PostgreSQL, and this script,
 * which is the load generator.
 */
async function load(pg, monitor, server, path) {
  let r;
  const cpu = await cpuProfile(pg, monitor, async (track) => {
    track(server.pid);
    r = await autocannon({ url: `${server.base}${path}`, headers: server.headers, connections: CONNECTIONS, duration: LOAD_SECONDS });
  });
  const share = (test) => round(cpu.processes.filter((p) => test(p.process)).reduce((sum, p) => sum + p.cpuSeconds, 0) / cpu.wallSeconds, 2);
  return {
    p50Ms: r.latency.p50, p99Ms: r.latency.p99, maxMs: r.latency.max, requestsPerSecond: r.requests.average,
    requests: r.requests.total, errors: r.errors, timeouts: r.timeouts, non2xx: r.non2xx,
    cpuOfWall: {
      server: share((p) => p.startsWith('node')), serverChildren: share((p) => !p.startsWith('node') && !p.startsWith('postgres')),
      postgres: share((p) => p.startsWith('postgres')), client: round(cpu.benchCpuSeconds / cpu.wallSeconds, 2), machineBusy: cpu.machine.busy,
    },
  };
}

/**
 * Runs `fn` while backups run back to back on `server`, and reports which share of `fn`'s wall
 * time a backup was actually running (from the backups' own start and finish times).
 */
async function whileBackingUp(server, fn) {
  let stop = false;
  let failure = null;
  const spans = [];
  const loop = (async () => {
    while (!stop) {
      const b = await server.backup();
      if (b.status !== 'completed') throw new Error(`backup failed: ${b.error}`);
      spans.push([Date.parse(b.createdAt), Date.parse(b.finishedAt)]);
    }
  })().catch((error) => { failure = error; });
  while (!(await server.current()).locked) { if (failure) throw failure; await sleep(20); }
  const t0 = Date.now();
  const result = await fn();
  const t1 = Date.now();
  stop = true;
  await loop;
  if (failure) throw failure;
  const covered = spans.reduce((s, [a, b]) => s + Math.max(0, Math.min(b, t1) - Math.max(a, t0)), 0);
  return { ...result, backups: spans.length, backupRunningShare: round(covered / (t1 - t0), 2) };
}

// ---------------------------------------------------------------------------------------------

async function main() {
  run('npm', ['run', 'build', '--silent'], { cwd: root });
  const pg = await startCluster();
  const work = mkdtempSync(join(tmpdir(), 'pgb-bench-files-'));
  const conn = `-h 127.0.0.1 -p ${pg.port} -U postgres`;
  const connArgs = ['-h', '127.0.0.1', '-p', String(pg.port), '-U', 'postgres'];
  const servers = [];
  const monitor = new pgLib.Client({ connectionString: pg.url('postgres'), application_name: 'bench-monitor' });
  try {
    console.log(`generating a ~${SCALE} GB database…`);
    const dbBytes = generate(pg);
    console.log(`database: ${(dbBytes / 1e9).toFixed(2)} GB on disk; ${RUNS} run(s) each after a warm-up; ${CORES} cores`);
    await monitor.connect();
    const server = await startServer(pg, join(work, 'backups'));
    servers.push(server);
    // the same server with age encryption to an X25519 recipient (a throwaway key), for the backups phase
    let encrypted;
    if (PHASES.has('backups')) {
      const keygen = run('age-keygen', []);
      const recipient = /public key: (age1\S+)/.exec(keygen)?.[1] ?? /^# public key: (\S+)/m.exec(keygen)[1];
      encrypted = await startServer(pg, join(work, 'backups-encrypted'), { BACKUP_AGE_RECIPIENTS: recipient });
      servers.push(encrypted);
    }

    /** name → { label, seconds: [], sizeBytes } */
    const figures = {};
    const peaks = { idleAtStart: server.rss(), backup: 0, backupEncrypted: 0, restore: 0, restoreWithSafety: 0 };
    // every contender starts from a clean state: no dirty pages left by the one before (a 1 GB
    // restore leaves ~1 GB to write back, which would slow whoever runs next)
    const settle = () => { pg.psql('checkpoint'); run('sync', []); };
    const contender = (kind, name, label, measure) => {
      figures[name] = { kind, label, seconds: [] };
      return { name, run: async (warmUp) => {
        settle();
        const { seconds, sizeBytes } = await measure();
        if (warmUp) return;
        figures[name].seconds.push(seconds);
        if (sizeBytes !== undefined) figures[name].sizeBytes = sizeBytes;
      } };
    };
    const ours = (srv, peakKey, what, start) => async () => {
      srv.resetPeak();
      const r = await start();
      if (r.status !== 'completed') throw new Error(`${what} failed: ${r.error}`);
      peaks[peakKey] = Math.max(peaks[peakKey], srv.peak());
      return { seconds: r.seconds, sizeBytes: r.sizeBytes };
    };
    const shellDump = (shell, file) => () => ({ seconds: timeShell(shell), sizeBytes: statSync(file).size });

    // ---- backups: the reference dumps and ours
    const fdDir = join(work, 'fd');
    if (PHASES.has('backups')) await rounds([
      contender('backup', 'dumpFc', 'pg_dump -Fc', shellDump(`pg_dump ${conn} -Fc -f ${work}/fc.dump bench`, `${work}/fc.dump`)),
      contender('backup', 'dumpZ0', 'pg_dump -Fc -Z0 (the floor)', shellDump(`pg_dump ${conn} -Fc -Z0 -f ${work}/z0.dump bench`, `${work}/z0.dump`)),
      contender('backup', 'dumpGzip', 'pg_dump | gzip (plain format)', shellDump(`pg_dump ${conn} bench | gzip > ${work}/plain.sql.gz`, `${work}/plain.sql.gz`)),
      contender('backup', 'dumpFdJ', `pg_dump -Fd -j ${CORES}`, () => {
        rmSync(fdDir, { recursive: true, force: true });
        return { seconds: timeShell(`pg_dump ${conn} -Fd -j ${CORES} -f ${fdDir} bench`), sizeBytes: dirBytes(fdDir) };
      }),
      contender('backup', 'ours', 'our backup (defaults)', ours(server, 'backup', 'backup', () => server.backup())),
      contender('backup', 'oursEncrypted', 'our backup, age-encrypted', ours(encrypted, 'backupEncrypted', 'encrypted backup', () => encrypted.backup())),
    ], RUNS, (i) => console.log(`backups: run ${i + 1}/${RUNS}`));

    // ---- restores: pg_restore of the -Fc file into a fresh database, ours through the API
    server.resetPeak();
    const last = await server.backup();
    peaks.backup = Math.max(peaks.backup, server.peak());
    const fresh = () => { pg.psql('drop database if exists restored'); pg.psql('create database restored'); };
    if (PHASES.has('restores') && !existsSync(`${work}/fc.dump`)) run('pg_dump', [...connArgs, '-Fc', '-f', `${work}/fc.dump`, 'bench']);
    if (PHASES.has('restores')) await rounds([
      contender('restore', 'restoreRef', 'pg_restore -1 -e (of -Fc)', () => { fresh(); return { seconds: timeShell(`pg_restore ${conn} -d restored --single-transaction --exit-on-error ${work}/fc.dump`) }; }),
      contender('restore', 'restoreRefJ', `pg_restore -j ${CORES} -e (of -Fc)`, () => { fresh(); return { seconds: timeShell(`pg_restore ${conn} -d restored -j ${CORES} --exit-on-error ${work}/fc.dump`) }; }),
      contender('restore', 'oursRestore', 'our restore (safety backup off)', ours(server, 'restore', 'restore', () => server.restore(last.id, false))),
      contender('restore', 'oursRestoreSafety', 'our restore with its safety backup', ours(server, 'restoreWithSafety', 'restore', () => server.restore(last.id, true))),
    ], RUNS, (i) => console.log(`restores: run ${i + 1}/${RUNS}`));
    pg.psql('drop database if exists restored');

    // ---- drills (scratch database, restore, count, drop)
    const drill = { seconds: [], restoreSeconds: [], exactTables: 0 };
    for (let i = 0; PHASES.has('drills') && i < RUNS; i++) {
      const d = await server.drill(last.id);
      if (!d.ok) throw new Error(`drill failed: ${d.error}`);
      drill.seconds.push(d.durationMs / 1000);
      drill.restoreSeconds.push(d.restoreMs / 1000);
      drill.exactTables = d.tables.filter((t) => t.exact).length;
    }

    // ---- many tables: backup and restore on a server with the default lock table, next to pg_dump and pg_restore -1
    const manyTables = { tables: MANY_TABLES, figures: {} };
    if (PHASES.has('manytables')) {
      console.log(`many tables: generating ${MANY_TABLES} tables with sequences…`);
      generateManyTables(pg, 'wide', MANY_TABLES);
      const wide = await startServer(pg, join(work, 'backups-wide'), { DATABASE_URL: pg.url('wide') });
      servers.push(wide);
      const wideLast = await wide.backup();
      if (wideLast.status !== 'completed') throw new Error(`many tables: backup failed: ${wideLast.error}`);
      const manyContender = (name, label, measure) => {
        manyTables.figures[name] = { label, seconds: [] };
        return { run: async (warmUp) => {
          settle();
          const seconds = await measure();
          if (!warmUp) manyTables.figures[name].seconds.push(seconds);
        } };
      };
      const completed = async (what, start) => { const r = await start(); if (r.status !== 'completed') throw new Error(`many tables: ${what} failed: ${r.error}`); return r.seconds; };
      const freshWide = () => { pg.psql('drop database if exists wide_restored'); pg.psql('create database wide_restored'); };
      await rounds([
        manyContender('dumpZ0', 'pg_dump -Fc -Z0', async () => timeShell(`pg_dump ${conn} -Fc -Z0 -f ${work}/wide.dump wide`)),
        manyContender('ours', 'our backup (defaults)', () => completed('backup', () => wide.backup())),
        manyContender('restoreRef', 'pg_restore -1 -e (into an empty database)', async () => { freshWide(); return timeShell(`pg_restore ${conn} -d wide_restored --single-transaction --exit-on-error ${work}/wide.dump`); }),
        manyContender('oursRestore', 'our restore (safety backup off, over the live database)', () => completed('restore', () => wide.restore(wideLast.id, false))),
      ], RUNS, (i) => console.log(`many tables: run ${i + 1}/${RUNS}`));
      pg.psql('drop database if exists wide_restored');
      for (const f of Object.values(manyTables.figures)) f.median = round(median(f.seconds));
      const mt = manyTables.figures;
      manyTables.ratios = { backupToPgDumpZ0: round(mt.ours.median / mt.dumpZ0.median), restoreToPgRestore: round(mt.oursRestore.median / mt.restoreRef.median) };
    }

    // ---- disaster recovery: the database's tables owned by a role and granted to another; a new
    // cluster without them; our import + restore (creating the roles) next to CREATE ROLE + pg_restore -1
    const dr = { figures: {} };
    if (PHASES.has('dr')) {
      pg.psql(`create role dr_owner nologin; create role dr_reader nologin;
        do $$ declare t record; begin
          for t in select tablename from pg_tables where schemaname = 'public' loop
            execute format('alter table public.%I owner to dr_owner; grant select on public.%I to dr_reader', t.tablename, t.tablename);
          end loop;
        end $$;`, 'bench');
      const drBackup = await server.backup();
      if (drBackup.status !== 'completed') throw new Error(`dr: backup failed: ${drBackup.error}`);
      run('pg_dump', [...connArgs, '-Fc', '-N', 'backup_admin', '-f', `${work}/dr.dump`, 'bench']);
      // only this backup survives the disaster
      const drDir = join(work, 'dr-backups');
      mkdirSync(drDir, { mode: 0o700 });
      for (const f of [drBackup.filename, `${drBackup.filename}.json`]) copyFileSync(join(work, 'backups', f), join(drDir, f));
      const other = await startCluster();
      try {
        const otherConn = `-h 127.0.0.1 -p ${other.port} -U postgres`;
        const newCluster = (db) => {
          for (const d of ['dr_app', 'dr_ref']) other.psql(`drop database if exists ${d} with (force)`);
          other.psql('drop role if exists dr_owner, dr_reader');
          other.psql(`create database ${db}`);
        };
        const drContender = (name, label, measure) => {
          dr.figures[name] = { label, seconds: [] };
          return { run: async (warmUp) => {
            settle();
            other.psql('checkpoint');
            const seconds = await measure();
            if (!warmUp) dr.figures[name].seconds.push(seconds);
          } };
        };
        await rounds([
          drContender('restoreRef', 'CREATE ROLE … + pg_restore -1 -e (of -Fc), new cluster', async () => {
            newCluster('dr_ref');
            return timeShell(`psql ${otherConn} -X -q -v ON_ERROR_STOP=1 -d dr_ref -c 'create role dr_owner nologin; create role dr_reader nologin' && ` +
              `pg_restore ${otherConn} -d dr_ref --single-transaction --exit-on-error ${work}/dr.dump`);
          }),
          drContender('ours', 'our import + restore creating the roles (safety backup off), new cluster', async () => {
            newCluster('dr_app');
            const newServer = await startServer(other, drDir, { DATABASE_URL: other.url('dr_app') });
            try {
              const imported = await newServer.importAll();
              if (!imported.imported?.length) throw new Error(`dr: nothing imported: ${JSON.stringify(imported)}`);
              const r = await newServer.restore(drBackup.id, false);
              if (r.status !== 'completed') throw new Error(`dr: restore failed: ${r.error}`);
              if (r.detail?.roles?.created?.length !== 2) throw new Error(`dr: expected two roles created: ${JSON.stringify(r.detail)}`);
              return r.seconds;
            } finally {
              await newServer.stop();
            }
          }),
        ], RUNS, (i) => console.log(`disaster recovery: run ${i + 1}/${RUNS}`));
      } finally {
        other.stop();
      }
      for (const f of Object.values(dr.figures)) f.median = round(median(f.seconds));
      dr.ratio = round(dr.figures.ours.median / dr.figures.restoreRef.median);
    }

    // ---- one table: ours in place (safety backup included) against pg_restore -t of that table from the same file, and our whole restore
    const oneTable = { table: 'public.customers', figures: {} };
    if (PHASES.has('tables')) {
      const file = join(work, 'backups', last.filename);
      oneTable.shareOfData = round(Number(pg.psql(`select pg_total_relation_size('public.customers')::float / sum(pg_total_relation_size(c.oid)) from pg_class c join pg_namespace n on n.oid = c.relnamespace where c.relkind = 'r' and n.nspname = 'public'`, 'bench')), 3);
      const tableContender = (name, label, measure) => {
        oneTable.figures[name] = { label, seconds: [] };
        return { run: async (warmUp) => {
          settle();
          const seconds = await measure();
          if (!warmUp) oneTable.figures[name].seconds.push(seconds);
        } };
      };
      const completed = async (what, start) => { const r = await start(); if (r.status !== 'completed') throw new Error(`one table: ${what} failed: ${r.error}`); return r.seconds; };
      await rounds([
        tableContender('restoreRef', 'zstd -dc | pg_restore -1 -t customers (into an empty database)', async () => {
          pg.psql('drop database if exists one_table'); pg.psql('create database one_table');
          // pg_restore stops reading once it has the table: zstd's broken pipe is not a failure
          return timeShell(`zstd -dc ${file} 2>/dev/null | pg_restore ${conn} -d one_table --single-transaction --exit-on-error -t customers; exit \${PIPESTATUS[1]}`);
        }),
        tableContender('ours', 'our restore of public.customers in place, safety backup included', () => completed('restore', () => server.restore(last.id, true, { tables: ['public.customers'] }))),
        tableContender('oursWhole', 'our whole restore, safety backup included', () => completed('restore', () => server.restore(last.id, true))),
      ], RUNS, (i) => console.log(`one table: run ${i + 1}/${RUNS}`));
      pg.psql('drop database if exists one_table');
      for (const f of Object.values(oneTable.figures)) f.median = round(median(f.seconds));
      const ot = oneTable.figures;
      oneTable.ratios = { toPgRestoreT: round(ot.ours.median / ot.restoreRef.median), toWholeRestore: round(ot.ours.median / ot.oursWhole.median) };
    }

    // ---- CPU per process: one more run of each, outside the timed rounds (the sampling costs a little CPU)
    console.log('CPU profiles…');
    const cpu = {};
    const apiRun = (srv, start) => async (track) => { track(srv.pid); const r = await start(); if (r.status !== 'completed') throw new Error(r.error); };
    if (PHASES.has('backups')) {
      cpu['pg_dump -Fc -Z0'] = await cpuProfile(pg, monitor, (track) => spawnTimed('pg_dump', [...connArgs, '-Fc', '-Z0', '-f', `${work}/z0.dump`, 'bench'], track));
      cpu['our backup (defaults)'] = await cpuProfile(pg, monitor, apiRun(server, () => server.backup()));
      cpu['our backup, age-encrypted'] = await cpuProfile(pg, monitor, apiRun(encrypted, () => encrypted.backup()));
    }
    if (PHASES.has('restores')) {
      fresh();
      cpu['pg_restore -1 -e'] = await cpuProfile(pg, monitor, (track) => spawnTimed('pg_restore', [...connArgs, '-d', 'restored', '--single-transaction', '--exit-on-error', `${work}/fc.dump`], track));
      pg.psql('drop database if exists restored');
      cpu['our restore (safety off)'] = await cpuProfile(pg, monitor, apiRun(server, () => server.restore(last.id, false)));
    }

    // ---- API latency with HISTORY_ROWS rows in the history: idle, then while backups run
    console.log(`latency: ${CONNECTIONS} connections, ${LOAD_SECONDS} s per route and situation…`);
    insertHistory(pg, last.id);
    const latency = { connections: CONNECTIONS, seconds: LOAD_SECONDS, historyRows: (await (await fetch(`${server.base}/backups?limit=1`, { headers: server.headers })).json()).total, routes: {} };
    try {
      for (const path of PHASES.has('latency') ? ['/backups', '/operations/current'] : []) {
        latency.routes[`GET ${path}`] = {
          idle: await load(pg, monitor, server, path),
          duringBackup: await whileBackingUp(server, () => load(pg, monitor, server, path)),
        };
      }
    } finally {
      deleteHistory(pg); // retention runs only after scheduled/CLI backups, but leave no trace anyway
    }

    // ---- report
    const m = (name) => median(figures[name].seconds);
    const size = (name) => figures[name].sizeBytes;
    for (const [name, f] of Object.entries(figures)) {
      Object.assign(f, { median: round(m(name)), min: round(Math.min(...f.seconds)), max: round(Math.max(...f.seconds)) });
      if (f.kind === 'backup') {
        f.ratios = { timeToZ0: round(m(name) / m('dumpZ0')), timeToFc: round(m(name) / m('dumpFc')), sizeToFc: round(size(name) / size('dumpFc')) };
      } else {
        f.ratios = { timeToPgRestore: round(m(name) / m('restoreRef')), timeToPgRestoreJ: round(m(name) / m('restoreRefJ')) };
      }
    }
    const vs = (name) => {
      const r = figures[name].ratios;
      const parts = r.timeToZ0 !== undefined
        ? [name !== 'dumpZ0' && `${r.timeToZ0.toFixed(2)}× -Z0`, name !== 'dumpFc' && `${(1 / r.timeToFc).toFixed(2)}× faster than -Fc`, name !== 'dumpFc' && `size ${r.sizeToFc.toFixed(2)}× -Fc`]
        : [name !== 'restoreRef' && `${r.timeToPgRestore.toFixed(2)}× pg_restore -1`, name !== 'restoreRefJ' && `${r.timeToPgRestoreJ.toFixed(2)}× -j ${CORES}`];
      return parts.filter(Boolean).join(', ');
    };
    console.log('\n| what | time, median (min–max) | size | vs the references |\n|---|---|---|---|');
    for (const [name, f] of Object.entries(figures)) console.log(`| ${f.label} | ${fmt(f.seconds)} | ${f.sizeBytes ? mb(f.sizeBytes) : ''} | ${vs(name)} |`);
    if (drill.seconds.length) console.log(`| our drill (scratch database, restore, count, drop) | ${fmt(drill.seconds)} | | restore part ${fmt(drill.restoreSeconds)}; ${drill.exactTables} tables compared exactly |`);
    if (PHASES.has('manytables')) {
      const mt = manyTables.figures;
      console.log(`\n${MANY_TABLES} tables with ${MANY_TABLES} sequences (max_locks_per_transaction ${pg.psql('show max_locks_per_transaction')}, max_connections ${pg.psql('show max_connections')})\n| what | time, median (min–max) | vs the reference |\n|---|---|---|`);
      for (const [name, f] of Object.entries(mt)) {
        const vsRef = name === 'ours' ? `${manyTables.ratios.backupToPgDumpZ0.toFixed(2)}× pg_dump -Fc -Z0` : name === 'oursRestore' ? `${manyTables.ratios.restoreToPgRestore.toFixed(2)}× pg_restore -1` : '';
        console.log(`| ${f.label} | ${fmt(f.seconds)} | ${vsRef} |`);
      }
    }
    if (PHASES.has('dr')) {
      console.log('\ndisaster recovery onto a new cluster (roles created)\n| what | time, median (min–max) | vs the reference |\n|---|---|---|');
      for (const [name, f] of Object.entries(dr.figures)) console.log(`| ${f.label} | ${fmt(f.seconds)} | ${name === 'ours' ? `${dr.ratio.toFixed(2)}× CREATE ROLE + pg_restore -1` : ''} |`);
    }
    if (PHASES.has('tables')) {
      console.log(`\none table (${oneTable.table}, ${pct(oneTable.shareOfData)} of the data)\n| what | time, median (min–max) |\n|---|---|`);
      for (const f of Object.values(oneTable.figures)) console.log(`| ${f.label} | ${fmt(f.seconds)} |`);
    }
    console.log(`\npeak server RSS (sampled every ${SAMPLE_MS} ms; ${mb(peaks.idleAtStart)} idle after start): backup ${mb(peaks.backup)}, encrypted backup ${mb(peaks.backupEncrypted)}, restore ${mb(peaks.restore)}, restore with safety backup ${mb(peaks.restoreWithSafety)}`);

    console.log(`\nCPU seconds per process, one run each (utime+stime from /proc every ${SAMPLE_MS} ms; "of wall" 1.00 = one core busy throughout)`);
    for (const [what, p] of Object.entries(cpu)) {
      console.log(`\n${what}: ${p.wallSeconds.toFixed(2)} s wall on ${p.cores} cores; ${p.totalCpuSeconds.toFixed(2)} s CPU in all = ${(p.totalCpuSeconds / p.wallSeconds).toFixed(2)} cores busy; machine ${pct(p.machine.busy)} busy, ${pct(p.machine.iowait)} iowait, ${pct(p.machine.idle)} idle`);
      for (const x of p.processes) console.log(`  ${x.process.padEnd(44)} ${x.cpuSeconds.toFixed(2).padStart(7)} s  ${x.ofWall.toFixed(2)} of wall`);
      console.log(`  (not counted above: this script ${p.benchCpuSeconds.toFixed(2)} s, the rest of the machine ${p.elsewhereCpuSeconds.toFixed(2)} s)`);
    }

    console.log(`\nAPI latency, ${CONNECTIONS} connections, ${LOAD_SECONDS} s each, ${latency.historyRows} rows in the history`);
    console.log('| route | when | p50 | p99 | max | req/s | errors + non-2xx | CPU, of wall: server node / its children / postgres / client; machine busy |\n|---|---|---|---|---|---|---|---|');
    for (const [route, r] of Object.entries(latency.routes)) {
      for (const [when, x] of Object.entries(r)) {
        const note = when === 'duringBackup' ? `during backups (${x.backups}, running ${pct(x.backupRunningShare)} of the time)` : 'idle';
        const c = x.cpuOfWall;
        console.log(`| ${route} | ${note} | ${x.p50Ms} ms | ${x.p99Ms} ms | ${x.maxMs} ms | ${Math.round(x.requestsPerSecond)} | ${x.errors + x.timeouts + x.non2xx} | ${c.server.toFixed(2)} / ${c.serverChildren.toFixed(2)} / ${c.postgres.toFixed(2)} / ${c.client.toFixed(2)}; ${pct(c.machineBusy)} |`);
      }
    }

    const targets = [
      ...(PHASES.has('backups') ? [
        target('backup (defaults) ≤ 1.25× pg_dump -Fc -Z0 time', m('ours') / m('dumpZ0'), '<=', 1.25, '×'),
        target('backup (defaults) ≥ 4× faster than pg_dump -Fc', m('dumpFc') / m('ours'), '>=', 4, '×'),
        target('backup (defaults) file ≤ pg_dump -Fc file', size('ours') / size('dumpFc'), '<=', 1, '×'),
        target('encrypted backup ≤ 1.35× pg_dump -Fc -Z0 time', m('oursEncrypted') / m('dumpZ0'), '<=', 1.35, '×'),
        target('peak server RSS during backup ≤ 150 MB', Math.max(peaks.backup, peaks.backupEncrypted) / 1e6, '<=', 150, ' MB'),
      ] : []),
      ...(PHASES.has('restores') ? [
        target('restore (safety backup off) ≤ 1.1× pg_restore -1', m('oursRestore') / m('restoreRef'), '<=', 1.1, '×'),
        target('peak server RSS during restore ≤ 150 MB', Math.max(peaks.restore, peaks.restoreWithSafety) / 1e6, '<=', 150, ' MB'),
      ] : []),
      ...(PHASES.has('dr') ? [target('DR restore onto a new cluster ≤ 1.1× CREATE ROLE + pg_restore -1', dr.ratio, '<=', 1.1, '×')] : []),
      ...(PHASES.has('tables') ? [
        target('one-table restore (safety backup included) ≤ 1.2× pg_restore -t', oneTable.ratios.toPgRestoreT, '<=', 1.2, '×'),
        target('one-table restore (safety backup included) < 0.2× our whole restore', oneTable.ratios.toWholeRestore, '<', 0.2, '×'),
      ] : []),
      ...Object.entries(latency.routes).map(([route, r]) => target(`${route} p99 < 50 ms, ${CONNECTIONS} connections, during a backup`, r.duringBackup.p99Ms, '<', 50, ' ms')),
    ];
    console.log('\ntargets');
    for (const t of targets) console.log(`  ${t.met ? 'met   ' : 'missed'}  ${t.target}: ${t.measured}${t.unit === '×' ? '×' : ` ${t.unit}`}`);

    const results = {
      date: new Date().toISOString(), quick: QUICK,
      machine: { cpus: CORES, cpu: cpus()[0]?.model, memory: totalmem(), kernel: release() },
      versions: {
        node: process.version, product: JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).version,
        postgres: pg.psql('show server_version'), pg_dump: firstLine('pg_dump', ['--version']), pg_restore: firstLine('pg_restore', ['--version']),
        zstd: firstLine('zstd', ['--version'])?.replace(/\*/g, '').trim(), gzip: firstLine('gzip', ['--version']),
        autocannon: JSON.parse(readFileSync(join(root, 'node_modules/autocannon/package.json'), 'utf8')).version,
      },
      scale: SCALE, databaseBytes: dbBytes, runs: RUNS, phases: [...PHASES],
      figures, drill, manyTables, dr, oneTable, peakRssBytes: peaks, cpu, latency, targets,
    };
    writeFileSync(OUT, JSON.stringify(results, null, 2) + '\n');
    console.log(`\nwritten: ${OUT}`);
  } finally {
    for (const s of servers) await s.stop().catch(() => undefined);
    await monitor.end().catch(() => undefined);
    pg.stop();
    rmSync(work, { recursive: true, force: true });
  }
}

const pct = (share) => `${Math.round(share * 100)}%`;

function target(what, value, op, limit, unit) {
  const met = op === '<=' ? value <= limit : op === '>=' ? value >= limit : value < limit;
  return { target: what, measured: round(value, 2), unit: unit.trim(), limit, met };
}

await main();
