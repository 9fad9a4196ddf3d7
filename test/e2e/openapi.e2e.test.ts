import { INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { AppModule } from '../../src/app.module';
import { setupPgBackupDocs } from '../../src/openapi/openapi';
import { admin, TEST_SECRET } from '../support/app';
import { startPostgres, TestPostgres } from '../support/postgres';

/** The repository's openapi.json, seen from this test compiled into <outDir>/test/e2e. */
const COMMITTED = join(__dirname, '..', '..', '..', 'openapi.json');

/** Routes the app serves that the document leaves out on purpose: the admin page's files. */
const UNDOCUMENTED = ['GET /backup-admin', 'GET /backup-admin/{file}'];

type Schema = Record<string, any>;
type Document = { openapi: string; paths: Record<string, Record<string, any>>; components: { schemas: Record<string, Schema>; securitySchemes: Record<string, any> } };

/**
 * Every route Express holds, as `METHOD /path/{param}`, leaving out the document's own routes.
 * Nest registers each handler with `app.get(path, …)` & co., so each is a Layer with a route.
 */
function registeredRoutes(app: INestApplication): string[] {
  const express = app.getHttpAdapter().getInstance() as { router: { stack: { route?: { path: string; methods: Record<string, boolean> } }[] } };
  const routes = new Set<string>();
  for (const layer of express.router.stack) {
    if (!layer.route || layer.route.path.startsWith('/api/admin/docs')) continue;
    const path = layer.route.path.replace(/:(\w+)/g, '{$1}');
    for (const method of Object.keys(layer.route.methods)) routes.add(`${method.toUpperCase()} ${path}`);
  }
  return [...routes].sort();
}

function documentedRoutes(doc: Document): string[] {
  return Object.entries(doc.paths)
    .flatMap(([path, item]) => Object.keys(item).map((method) => `${method.toUpperCase()} ${path}`))
    .sort();
}

function operations(doc: Document): { route: string; op: any }[] {
  return Object.entries(doc.paths).flatMap(([path, item]) => Object.entries(item).map(([method, op]) => ({ route: `${method.toUpperCase()} ${path}`, op })));
}

/** Where `value` breaks `schema` (OpenAPI 3.0 subset the document uses); [] when it conforms. No unknown properties allowed. */
function mismatches(doc: Document, schema: Schema, value: unknown, at = '$'): string[] {
  if (schema.$ref) return mismatches(doc, doc.components.schemas[schema.$ref.split('/').pop()], value, at);
  if (value === null) return schema.nullable ? [] : [`${at}: null, not nullable`];
  if (schema.allOf) return schema.allOf.flatMap((s: Schema) => mismatches(doc, s, value, at));
  if (schema.oneOf) return schema.oneOf.some((s: Schema) => mismatches(doc, s, value, at).length === 0) ? [] : [`${at}: matches no oneOf`];
  if (schema.enum && !schema.enum.includes(value)) return [`${at}: ${JSON.stringify(value)} not in ${JSON.stringify(schema.enum)}`];
  switch (schema.type) {
    case 'string':
      return typeof value === 'string' ? [] : [`${at}: not a string`];
    case 'boolean':
      return typeof value === 'boolean' ? [] : [`${at}: not a boolean`];
    case 'integer':
      return Number.isInteger(value) ? [] : [`${at}: not an integer`];
    case 'number':
      return typeof value === 'number' ? [] : [`${at}: not a number`];
    case 'array':
      return Array.isArray(value) ? value.flatMap((v, i) => mismatches(doc, schema.items ?? {}, v, `${at}[${i}]`)) : [`${at}: not an array`];
  }
  if (schema.type === 'object' || schema.properties) {
    if (typeof value !== 'object' || Array.isArray(value)) return [`${at}: not an object`];
    const record = value as Record<string, unknown>;
    const properties: Record<string, Schema> = schema.properties ?? {};
    const problems = (schema.required ?? []).filter((k: string) => !(k in record)).map((k: string) => `${at}.${k}: missing`);
    for (const [key, v] of Object.entries(record)) {
      const property = properties[key] ?? (typeof schema.additionalProperties === 'object' ? schema.additionalProperties : undefined);
      if (property) problems.push(...mismatches(doc, property, v, `${at}.${key}`));
      else if (!schema.additionalProperties) problems.push(`${at}.${key}: not in the schema`);
    }
    return problems;
  }
  return [];
}

describe('OpenAPI document', () => {
  let pg: TestPostgres;
  let app: INestApplication;
  let root: string;
  let doc: Document;

  const get = async (path: string, token?: string) => {
    const res = await fetch(`${root}${path}`, { headers: token ? { authorization: `Bearer ${token}` } : {} });
    return { status: res.status, type: res.headers.get('content-type') ?? '', text: await res.text() };
  };
  const call = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${root}${path}`, {
      method,
      headers: { authorization: `Bearer ${admin}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, json: text ? JSON.parse(text) : undefined, text };
  };
  /** The schema of `route`'s answer with `status`. */
  const responseSchema = (route: string, status: number): Schema => {
    const [method, path] = route.split(' ');
    return doc.paths[path][method.toLowerCase()].responses[status].content['application/json'].schema;
  };
  const assertConforms = (route: string, status: number, value: unknown) => {
    assert.deepEqual(mismatches(doc, responseSchema(route, status), value), [], `${route} ${status}: ${JSON.stringify(value)}`);
  };

  before(async () => {
    pg = await startPostgres();
    pg.psql('create database app');
    pg.psql('create table t (x int); insert into t select generate_series(1, 100)', 'app');
    app = await NestFactory.create(
      AppModule.register({
        databaseUrl: pg.url('app'),
        schema: 'backup_admin',
        backupDir: mkdtempSync(join(tmpdir(), 'pgb-test-backups-')),
        auth: { secret: TEST_SECRET, adminRoles: ['admin'] },
        minFreeBytes: 1024 * 1024,
        restoreGraceMs: 1000,
      }),
      { logger: process.env.TEST_LOGS ? undefined : false },
    );
    setupPgBackupDocs(app);
    await app.listen(0, '127.0.0.1');
    root = `http://127.0.0.1:${(app.getHttpServer().address() as { port: number }).port}`;
    const r = await get('/api/admin/docs-json');
    assert.equal(r.status, 200, r.text);
    doc = JSON.parse(r.text);
  });

  after(async () => {
    await app?.close();
    pg?.stop();
  });

  it('is served as OpenAPI 3 JSON at /api/admin/docs-json, with the bearer scheme', async () => {
    const r = await get('/api/admin/docs-json');
    assert.match(r.type, /^application\/json/);
    assert.match(doc.openapi, /^3\./);
    assert.deepEqual(doc.components.securitySchemes.bearer, {
      type: 'http',
      scheme: 'bearer',
      bearerFormat: 'JWT',
      description: 'A JWT whose roles include an admin, operator or viewer role',
    });
  });

  it('Swagger UI answers at /api/admin/docs, HTML with its assets, without a token', async () => {
    const page = await get('/api/admin/docs');
    assert.equal(page.status, 200);
    assert.match(page.type, /^text\/html/);
    assert.match(page.text, /swagger-ui/);
    const init = await get('/api/admin/docs/swagger-ui-init.js');
    assert.equal(init.status, 200);
    assert.match(init.text, /"\/api\/admin\/backups"/, 'the UI is handed this document');
    assert.equal((await get('/api/admin/docs/swagger-ui-bundle.js')).status, 200);
    assert.equal((await get('/api/admin/docs-yaml')).status, 200);
  });

  it('lists every route the app registers, and only those; the page is the one exclusion', () => {
    const registered = registeredRoutes(app);
    const documented = documentedRoutes(doc);
    assert.ok(registered.length > 20, `routes found: ${registered.join(', ')}`);
    assert.deepEqual(
      registered.filter((route) => !documented.includes(route)),
      UNDOCUMENTED,
      'registered but not documented',
    );
    assert.deepEqual(documented.filter((route) => !registered.includes(route)), [], 'documented but not registered');
    assert.ok(documented.every((route) => route.split(' ')[1].match(/^\/(api\/admin|health|metrics)(\/|$)/)), 'every path carries its prefix');
  });

  it('is the committed openapi.json (run `npm run openapi` after changing a route or DTO)', () => {
    assert.deepEqual(JSON.parse(readFileSync(COMMITTED, 'utf8')), doc);
  });

  it("gives every admin operation bearer security, 401 and 403; every error but the probes' 503 is ApiErrorResponse in JSON", () => {
    const ids = new Set<string>();
    for (const { route, op } of operations(doc)) {
      assert.ok(op.operationId && !ids.has(op.operationId), `${route}: operationId ${op.operationId} missing or repeated`);
      ids.add(op.operationId);
      assert.ok(op.summary, `${route}: summary`);
      assert.ok(op.tags?.length === 1, `${route}: one tag`);
      const statuses = Object.keys(op.responses);
      assert.ok(statuses.some((s) => /^2\d\d$/.test(s)), `${route}: a success response`);
      // a probe's 503 is terminus' report of its checks
      for (const status of statuses.filter((s) => Number(s) >= 400 && !(route.includes(' /health/') && s === '503'))) {
        assert.deepEqual(op.responses[status].content, { 'application/json': { schema: { $ref: '#/components/schemas/ApiErrorResponse' } } }, `${route} ${status}`);
      }
      if (route.split(' ')[1].startsWith('/api/admin/')) {
        assert.deepEqual(op.security, [{ bearer: [] }], `${route}: security`);
        assert.ok(statuses.includes('401') && statuses.includes('403'), `${route}: 401 and 403`);
      }
    }
    assert.deepEqual(operations(doc).find((o) => o.route === 'GET /health/ready')!.op.security, [], 'health is public: security []');
    assert.deepEqual(doc.components.schemas.ApiErrorResponse.required, ['statusCode', 'message']);
  });

  it('describes the request DTOs with their required fields and rules', () => {
    const schemas = doc.components.schemas;
    const body = (route: string) => {
      const [method, path] = route.split(' ');
      return doc.paths[path][method.toLowerCase()].requestBody.content['application/json'].schema.$ref.split('/').pop();
    };
    assert.equal(body('POST /api/admin/backups/{id}/restore'), 'RestoreBackupDto');
    assert.deepEqual(schemas.RestoreBackupDto.required, ['confirm']);
    assert.deepEqual(schemas.RestoreBackupDto.properties.confirm, { type: 'boolean', enum: [true], description: "Must be `true`: a restore replaces the database's content (not needed with `dryRun: true`)" });
    assert.equal(body('PUT /api/admin/backups/config'), 'UpdateConfigDto');
    assert.equal(schemas.UpdateConfigDto.required, undefined, 'every setting is optional');
    assert.deepEqual(schemas.RetentionDto.required, ['keepLast', 'maxAgeDays', 'daily', 'weekly', 'monthly']);
    assert.equal(body('POST /api/admin/backups'), 'CreateBackupDto');
    assert.equal(schemas.CreateBackupDto.properties.tags.maxItems, 20);
    assert.equal(body('PATCH /api/admin/backups/{id}'), 'UpdateBackupDto');
    assert.deepEqual(Object.keys(schemas.UpdateBackupDto.properties).sort(), ['notes', 'pinned', 'tags']);
    const upload = doc.paths['/api/admin/backups/upload'].post.requestBody.content['multipart/form-data'].schema;
    assert.deepEqual(upload.required, ['file']);
    const list = doc.paths['/api/admin/backups'].get.parameters.map((p: any) => `${p.in}:${p.name}`);
    assert.deepEqual(list, ['query:limit', 'query:offset', 'query:status', 'query:type']);
    const id = doc.paths['/api/admin/backups/{id}'].get.parameters[0];
    assert.deepEqual([id.in, id.name, id.required, id.schema.format], ['path', 'id', true, 'uuid']);
  });

  it('describes what the API answers: live responses conform to their schemas, no field undocumented', async () => {
    const created = await call('POST', '/api/admin/backups', { notes: 'openapi', tags: ['docs'] });
    assert.equal(created.status, 202, created.text);
    assertConforms('POST /api/admin/backups', 202, created.json);
    let backup = created.json;
    for (const deadline = Date.now() + 60_000; backup.status === 'running' && Date.now() < deadline; ) {
      await new Promise((resolve) => setTimeout(resolve, 200));
      backup = (await call('GET', `/api/admin/backups/${created.json.id}`)).json;
    }
    assert.equal(backup.status, 'completed', backup.error);
    assertConforms('GET /api/admin/backups/{id}', 200, backup);
    assert.ok(backup.metadata && backup.sha256, 'a completed backup fills the nullable fields');

    const answers: [string, string, unknown?][] = [
      ['GET /api/admin/backups', '/api/admin/backups'],
      ['GET /api/admin/backups/stats', '/api/admin/backups/stats'],
      ['POST /api/admin/backups/{id}/verify', `/api/admin/backups/${backup.id}/verify`],
      ['PATCH /api/admin/backups/{id}', `/api/admin/backups/${backup.id}`, { pinned: true }],
      ['POST /api/admin/backups/cleanup', '/api/admin/backups/cleanup?dryRun=true'],
      ['POST /api/admin/backups/cleanup', '/api/admin/backups/cleanup'],
      ['POST /api/admin/backups/scrub', '/api/admin/backups/scrub'],
      ['PUT /api/admin/backups/config', '/api/admin/backups/config', { schedule: '0 3 * * *', enabled: true }],
      ['GET /api/admin/backups/config', '/api/admin/backups/config'],
      ['GET /api/admin/operations/current', '/api/admin/operations/current'],
      ['GET /api/admin/restores', '/api/admin/restores'],
      ['GET /api/admin/audit', '/api/admin/audit'],
    ];
    for (const [route, url, body] of answers) {
      const r = await call(route.split(' ')[0], url, body);
      assert.equal(r.status, 200, `${route}: ${r.text}`);
      assertConforms(route, 200, r.json);
    }

    const idle = async () => {
      for (const deadline = Date.now() + 60_000; Date.now() < deadline; await new Promise((resolve) => setTimeout(resolve, 200))) {
        const current = await call('GET', '/api/admin/operations/current');
        assertConforms('GET /api/admin/operations/current', 200, current.json);
        if (!current.json.locked) return;
      }
      assert.fail('the operation did not end');
    };
    const drill = await call('POST', `/api/admin/backups/${backup.id}/drill`);
    assert.equal(drill.status, 202, drill.text);
    assertConforms('POST /api/admin/backups/{id}/drill', 202, drill.json);
    await idle();
    const drilled = (await call('GET', `/api/admin/backups/${backup.id}`)).json;
    assert.equal(drilled.drill?.ok, true, JSON.stringify(drilled.drill));
    assertConforms('GET /api/admin/backups/{id}', 200, drilled);

    const preview = await call('POST', `/api/admin/backups/${backup.id}/restore`, { dryRun: true });
    assert.equal(preview.status, 200, preview.text);
    assertConforms('POST /api/admin/backups/{id}/restore', 200, preview.json);

    const restore = await call('POST', `/api/admin/backups/${backup.id}/restore`, { confirm: true });
    assert.equal(restore.status, 202, restore.text);
    assertConforms('POST /api/admin/backups/{id}/restore', 202, restore.json);
    await idle();
    const restored = await call('GET', `/api/admin/restores/${restore.json.id}`);
    assert.equal(restored.json.status, 'completed', restored.text);
    assertConforms('GET /api/admin/restores/{id}', 200, restored.json);
    assert.ok(restored.json.detail.rowCounts, 'the record carries its row counts');
    assertConforms('POST /api/admin/backups/{id}/restore', 200, (await call('POST', `/api/admin/backups/${backup.id}/restore`, { dryRun: true })).json);
    assertConforms('GET /api/admin/backups', 200, (await call('GET', '/api/admin/backups')).json);

    const config = (await call('GET', '/api/admin/backups/config')).json;
    assert.ok(config.nextRunAt && config.nextRuns.length, 'the schedule fills nextRunAt');
    const audit = (await call('GET', '/api/admin/audit')).json;
    assert.ok(audit.items.length > 0);

    const errors: [string, string, string, unknown?][] = [
      ['GET /api/admin/backups/{id}', 'GET', '/api/admin/backups/not-a-uuid'],
      ['GET /api/admin/backups/{id}', 'GET', '/api/admin/backups/00000000-0000-4000-8000-000000000000'],
      ['POST /api/admin/backups/{id}/restore', 'POST', `/api/admin/backups/${backup.id}/restore`, { confirm: false }],
      ['POST /api/admin/operations/current/cancel', 'POST', '/api/admin/operations/current/cancel'],
    ];
    for (const [route, method, url, body] of errors) {
      const r = await call(method, url, body);
      assert.ok(r.status >= 400, `${route}: ${r.status}`);
      assert.ok(doc.paths[route.split(' ')[1]][method.toLowerCase()].responses[r.status], `${route}: ${r.status} is documented`);
      assertConforms(route, r.status, r.json);
    }
    const denied = await get('/api/admin/backups');
    assert.equal(denied.status, 401);
    assertConforms('GET /api/admin/backups', 401, JSON.parse(denied.text));
  });
});
