import { INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AppModule } from '../../src/app.module';
import { enableServerCors } from '../../src/config/cors';
import { PgBackupOptions } from '../../src/pg-backup.options';
import { sleep } from './net';
import { hs256 } from './tokens';

export const TEST_SECRET = 'test-secret-0123456789abcdef';

/** Alice's admin token, signed with TEST_SECRET: what most e2e requests carry. */
export const admin = hs256({ sub: 'alice', roles: ['admin'] }, TEST_SECRET);

export interface TestApp {
  app: INestApplication;
  base: string;
  backupDir: string;
  close(): Promise<void>;
  request(method: string, path: string, options?: { token?: string; body?: unknown }): Promise<{ status: number; json: any; text: string; headers: Headers }>;
  waitDone(path: string, token: string, timeoutMs?: number): Promise<any>;
  /** POST /backups (202 expected) and wait until the backup leaves `running`. */
  createBackup(body?: object, token?: string): Promise<any>;
}

/** The standalone server's module, in-process, on a free port; with `corsOrigins`, CORS as main.ts sets it from CORS_ORIGINS. */
export async function startApp(
  databaseUrl: string,
  overrides: Partial<PgBackupOptions> = {},
  { corsOrigins = [], ...serverOptions }: NonNullable<Parameters<typeof AppModule.register>[1]> & { corsOrigins?: string[] } = {},
): Promise<TestApp> {
  const backupDir = overrides.backupDir ?? mkdtempSync(join(tmpdir(), 'pgb-test-backups-'));
  const options: PgBackupOptions = {
    databaseUrl,
    schema: 'backup_admin',
    backupDir,
    auth: { secret: TEST_SECRET, adminRoles: ['admin'] },
    minFreeBytes: 1024 * 1024,
    restoreGraceMs: 1000,
    ...overrides,
  };
  const app = await NestFactory.create(AppModule.register(options, serverOptions), { logger: process.env.TEST_LOGS ? undefined : false });
  app.enableShutdownHooks();
  enableServerCors(app, corsOrigins);
  await app.listen(0, '127.0.0.1');
  // the tests' synchronous psql calls freeze this process, client and server alike: a server-side
  // keep-alive shorter than such a freeze closes the socket the next request is already using
  app.getHttpServer().keepAliveTimeout = 120_000;
  const address = app.getHttpServer().address() as { port: number };
  const base = `http://127.0.0.1:${address.port}/api/admin`;
  const request: TestApp['request'] = async (method, path, { token, body } = {}) => {
    const headers: Record<string, string> = {};
    if (token) headers.authorization = `Bearer ${token}`;
    if (body !== undefined) headers['content-type'] = 'application/json';
    const res = await fetch(`${base}${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    const text = await res.text();
    let json: unknown;
    try {
      json = text ? JSON.parse(text) : undefined;
    } catch {
      json = undefined;
    }
    return { status: res.status, json, text, headers: res.headers };
  };
  const waitDone: TestApp['waitDone'] = async (path, token, timeoutMs = 120_000) => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const r = await request('GET', path, { token });
      if (r.status === 200 && r.json?.status !== 'running') return r.json;
      if (Date.now() > deadline) throw new Error(`${path} still running: ${r.text}`);
      await sleep(200);
    }
  };
  return {
    app,
    base,
    backupDir,
    close: () => app.close(),
    request,
    waitDone,
    async createBackup(body = {}, token = admin) {
      const r = await request('POST', '/backups', { token, body });
      if (r.status !== 202) throw new Error(`POST /backups answered ${r.status}: ${r.text}`);
      return waitDone(`/backups/${r.json.id}`, token);
    },
  };
}
