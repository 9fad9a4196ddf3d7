import assert from 'node:assert/strict';
import { ChildProcess, execFileSync, spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { admin, TEST_SECRET } from '../support/app';
import { freePort, sleep } from '../support/net';
import { startPostgres, TestPostgres } from '../support/postgres';

const REPO = join(__dirname, '..', '..', '..');
/** The previous 12.x patch: the host's Nest is not the one this repository builds with. */
const HOST_NEST = '12.5.0';

/**
 * A host app in plain JavaScript (no compiler to catch a missing option): its own controller on its
 * own TypeORM connection, and the installed module through forRootAsync with an injected config.
 */
const HOST = `
require('reflect-metadata');
const { Controller, Get, Inject, Injectable, Module } = require('@nestjs/common');
const { NestFactory } = require('@nestjs/core');
const { TypeOrmModule, getDataSourceToken } = require('@nestjs/typeorm');
const { PgBackupModule } = require('nestjs-pg-backup');

class HostConfig {
  constructor() {
    this.databaseUrl = process.env.DATABASE_URL;
    this.backupDir = process.env.BACKUP_DIR;
  }
}
Injectable()(HostConfig);
class ConfigModule {}
Module({ providers: [HostConfig], exports: [HostConfig] })(ConfigModule);

class OrdersController {
  constructor(dataSource) {
    this.dataSource = dataSource;
  }
  async count() {
    const [{ n }] = await this.dataSource.query('select count(*)::int as n from orders');
    return { orders: n };
  }
}
Controller('orders')(OrdersController);
Get()(OrdersController.prototype, 'count', Object.getOwnPropertyDescriptor(OrdersController.prototype, 'count'));
Inject(getDataSourceToken())(OrdersController, undefined, 0);

class HostModule {}
Module({
  imports: [
    TypeOrmModule.forRoot({ type: 'postgres', url: process.env.DATABASE_URL }),
    PgBackupModule.forRootAsync({
      path: 'ops/backup',
      imports: [ConfigModule],
      inject: [HostConfig],
      useFactory: (config) => ({
        databaseUrl: config.databaseUrl,
        ...(process.env.FORGET_SCHEMA ? {} : { schema: 'backup_admin' }),
        backupDir: config.backupDir,
        auth: { secret: process.env.JWT_SECRET, adminRoles: ['admin'] },
      }),
    }),
  ],
  controllers: [OrdersController],
})(HostModule);

NestFactory.create(HostModule, { logger: ['error', 'warn'] })
  .then((app) => app.listen(Number(process.env.PORT), '127.0.0.1'))
  .then(() => console.log('host listening'));
`;

function run(command: string, args: string[], cwd: string): string {
  return execFileSync(command, args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 64 * 1024 * 1024 });
}

describe('the module as a package a host installs', () => {
  let scratch: string;
  let pg: TestPostgres;
  let tarball: { filename: string; size: number; entryCount: number; files: { path: string }[] };

  before(async () => {
    scratch = mkdtempSync(join(tmpdir(), 'pgb-package-'));
    chmodSync(scratch, 0o755);
    const clone = join(scratch, 'clone');
    run('git', ['clone', '--quiet', REPO, clone], scratch);
    // the clone builds in prepack with this repository's compiler and types
    symlinkSync(realpathSync(join(REPO, 'node_modules')), join(clone, 'node_modules'));
    [tarball] = JSON.parse(run('npm', ['pack', '--json', '--pack-destination', scratch], clone));
    pg = await startPostgres();
    pg.psql('create database shop');
    pg.psql('create table orders (id serial primary key, item text not null); insert into orders (item) select \'item \' || i from generate_series(1, 50) i', 'shop');
  });

  after(() => {
    pg?.stop();
    rmSync(scratch, { recursive: true, force: true });
  });

  it('packs what a host needs at run time and no tests', () => {
    const paths = tarball.files.map((f) => f.path);
    for (const needed of ['package.json', 'README.md', 'dist/src/index.js', 'dist/src/index.d.ts', 'dist/src/cli/cli.js', 'ui/index.html']) {
      assert.ok(paths.includes(needed), `the tarball holds ${needed}`);
    }
    assert.ok(paths.some((p) => p.startsWith('dist/migrations/') && p.endsWith('.js')), 'the compiled migrations');
    assert.deepEqual(paths.filter((p) => /(^|\/)test\/|\.map$|^src\//.test(p)), [], 'no tests, source maps or TypeScript sources');
  });

  it('installs beside another Nest patch, serves the host and the module on one port, backs up and restores', async () => {
    const host = join(scratch, 'host');
    run('mkdir', ['-p', host], scratch);
    writeFileSync(join(host, 'package.json'), JSON.stringify({ name: 'host', private: true }));
    run('npm', [
      'install', '--no-audit', '--no-fund', '--prefer-offline', join(scratch, tarball.filename),
      `@nestjs/core@${HOST_NEST}`, `@nestjs/common@${HOST_NEST}`, `@nestjs/platform-express@${HOST_NEST}`,
      '@nestjs/event-emitter@12.0.0', 'reflect-metadata@^0.2.2', 'rxjs@^7.8.0', '@nestjs/typeorm@^12.0.2', 'typeorm@^1.1.1', 'pg@^8.23.1',
    ], host);
    const nestCore = JSON.parse(readFileSync(join(host, 'node_modules', '@nestjs', 'core', 'package.json'), 'utf8'));
    const repoNest = JSON.parse(readFileSync(join(REPO, 'node_modules', '@nestjs', 'core', 'package.json'), 'utf8'));
    assert.equal(nestCore.version, HOST_NEST);
    assert.notEqual(nestCore.version, repoNest.version, 'the host runs another Nest than the repository');
    assert.equal(existsSync(join(host, 'node_modules', 'nestjs-pg-backup', 'node_modules', '@nestjs', 'core')), false, 'one Nest: the host\'s');
    for (const shared of ['common', 'event-emitter', 'platform-express']) {
      assert.equal(existsSync(join(host, 'node_modules', 'nestjs-pg-backup', 'node_modules', '@nestjs', shared)), false, `one @nestjs/${shared}: the host's`);
    }

    // the exports map hands a TypeScript host the types
    writeFileSync(join(host, 'typed.ts'), [
      "import { PgBackupModule, PgBackupModuleOptions } from 'nestjs-pg-backup';",
      "const options: PgBackupModuleOptions = { databaseUrl: 'postgres://x@y/z', schema: 'backup_admin', backupDir: '/b', auth: { secret: 's'.repeat(16), adminRoles: ['admin'] } };",
      'export const mod = PgBackupModule.forRoot(options);',
      '',
    ].join('\n'));
    run(process.execPath, [
      join(REPO, 'node_modules', 'typescript', 'bin', 'tsc'), '--noEmit', '--strict', '--module', 'node16', '--moduleResolution', 'node16',
      '--experimentalDecorators', '--skipLibCheck', '--typeRoots', join(REPO, 'node_modules', '@types'), '--types', 'node', 'typed.ts',
    ], host);

    writeFileSync(join(host, 'main.js'), HOST);
    const backupDir = join(scratch, 'backups');
    const port = await freePort();
    const env = { ...process.env, DATABASE_URL: pg.url('shop'), BACKUP_DIR: backupDir, JWT_SECRET: TEST_SECRET, PORT: String(port) };

    // A JavaScript host that forgets `schema` learns it at once, by name.
    const forgetful = startHost(host, { ...env, FORGET_SCHEMA: '1' });
    const started = Date.now();
    const code = await forgetful.exited;
    assert.notEqual(code, 0);
    assert.match(forgetful.output(), /invalid PgBackupModule options:[\s\S]*\bschema\b/);
    assert.ok(Date.now() - started < 15_000, `failed after ${Date.now() - started} ms, not at once`);

    const server = startHost(host, env);
    try {
      await waitFor(() => /host listening/.test(server.output()), () => `host did not start: ${server.output()}`, 60_000);
      const base = `http://127.0.0.1:${port}`;
      const headers = { authorization: `Bearer ${admin}`, 'content-type': 'application/json' };
      assert.deepEqual(await (await fetch(`${base}/orders`)).json(), { orders: 50 }, 'the host\'s own route and connection');
      const page = await fetch(`${base}/backup-admin/`);
      assert.equal(page.status, 200, 'the admin page is served from the installed package');
      assert.match(await page.text(), /<html/i);

      const created = await fetch(`${base}/ops/backup/backups`, { method: 'POST', headers });
      assert.equal(created.status, 202);
      const { id } = (await created.json()) as { id: string };
      const backup = await until(`${base}/ops/backup/backups/${id}`, headers);
      assert.equal(backup.status, 'completed', JSON.stringify(backup));

      pg.psql("delete from orders where id > 10; insert into orders (item) values ('after the backup')", 'shop');
      assert.deepEqual(await (await fetch(`${base}/orders`)).json(), { orders: 11 });

      const refused = await fetch(`${base}/ops/backup/backups/${id}/restore`, { method: 'POST', headers, body: JSON.stringify({}) });
      assert.equal(refused.status, 400, 'a restore without confirm is refused');
      assert.equal(pg.psql('select count(*) from orders', 'shop').trim(), '11', 'nothing changed');

      const restore = await fetch(`${base}/ops/backup/backups/${id}/restore`, { method: 'POST', headers, body: JSON.stringify({ confirm: true }) });
      assert.equal(restore.status, 202, await restore.clone().text());
      const restored = await until(`${base}/ops/backup/restores/${((await restore.json()) as { id: string }).id}`, headers);
      assert.equal(restored.status, 'completed', JSON.stringify(restored));
      assert.equal(pg.psql('select count(*) from orders', 'shop').trim(), '50', 'the backup\'s rows are back');
      assert.equal(pg.psql("select count(*) from orders where item = 'after the backup'", 'shop').trim(), '0');
      assert.deepEqual(await (await fetch(`${base}/orders`)).json(), { orders: 50 }, 'the host serves the restored data');
      const lock = await (await fetch(`${base}/ops/backup/operations/current`, { headers })).json();
      assert.equal((lock as { locked: boolean }).locked, false, 'the lock is free');
    } finally {
      server.child.kill('SIGTERM');
      await server.exited;
    }
  });
});

function startHost(cwd: string, env: NodeJS.ProcessEnv): { child: ChildProcess; exited: Promise<number | null>; output: () => string } {
  const child = spawn(process.execPath, ['main.js'], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout!.on('data', (d) => (output += d));
  child.stderr!.on('data', (d) => (output += d));
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  return { child, exited, output: () => output };
}

async function waitFor(check: () => boolean, failure: () => string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(failure());
    await sleep(200);
  }
}

/** Polls an operation until it is no longer running. */
async function until(url: string, headers: Record<string, string>): Promise<any> {
  let body: any;
  for (let i = 0; i < 300; i++) {
    body = await (await fetch(url, { headers })).json();
    if (body.status !== 'running' && body.status !== 'pending') return body;
    await sleep(200);
  }
  throw new Error(`still running: ${JSON.stringify(body)}`);
}
