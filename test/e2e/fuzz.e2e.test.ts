import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { Client } from 'pg';
import { advisoryLockKey, LockPurpose } from '../../src/lock/lock.constants';
import { buildPgBackupDocument } from '../../src/openapi/openapi';
import { admin, startApp, TestApp } from '../support/app';
import { fingerprint } from '../support/fingerprint';
import { startPostgres, TestPostgres } from '../support/postgres';

const RUNS_PER_OPERATION = 25;
const SEED = Number(process.env.FUZZ_SEED ?? 20261202);

/** encodeURIComponent, with lone surrogates made well-formed (it throws on them). */
const encode = (text: string) => encodeURIComponent((text as string & { toWellFormed(): string }).toWellFormed());

interface Operation {
  method: string;
  path: string;
  pathParams: string[];
  queryParams: string[];
  /** Property names of the JSON body, or null when the operation takes none. */
  bodyProperties: string[] | null;
  multipart: boolean;
}

interface FuzzRequest {
  path: string;
  query: [string, string][];
  body?: { type: string; text: string };
}

/** Text that has broken the API before: NUL, numbers beyond bigint, non-numbers, very long, not UTF-16 safe. */
const hostileText = fc.oneof(
  fc.string(),
  fc.string().map((s) => `${s}\u0000${s}`),
  fc.constantFrom('\u0000', '9223372036854775808', '18446744073709551616', '1e400', '-1', 'NaN', 'Infinity', 'null', 'true', '', ' ', '\ud800', '%00', '../..'),
  fc.string({ minLength: 3000, maxLength: 6000 }),
);

/** JSON nested `depth` levels deep, as text (built without recursion). */
const deepJson = fc.tuple(fc.integer({ min: 50, max: 5000 }), fc.constantFrom('[', '{"a":')).map(([depth, open]) => {
  const close = open === '[' ? ']' : '}';
  return `${open.repeat(depth)}1${close.repeat(depth)}`;
});

const hostileValue: fc.Arbitrary<unknown> = fc.oneof(
  hostileText,
  fc.constantFrom(null, true, false, 0, -1, 2 ** 63, Number.MAX_SAFE_INTEGER + 2, 1.5, [], {}),
  fc.integer(),
  fc.array(hostileText, { maxLength: 30 }),
  fc.dictionary(hostileText, hostileText, { maxKeys: 5 }),
);

function bodyArbitrary(op: Operation): fc.Arbitrary<{ type: string; text: string } | undefined> {
  if (op.multipart) {
    return fc.record({ type: fc.constantFrom('multipart/form-data; boundary=x', 'multipart/form-data', 'application/json', 'text/plain'), text: hostileText });
  }
  if (!op.bodyProperties) return fc.constant(undefined);
  const fields = op.bodyProperties.length ? op.bodyProperties : ['x'];
  const object = fc.dictionary(fc.oneof(fc.constantFrom(...fields), hostileText), hostileValue, { minKeys: 1, maxKeys: fields.length + 1 });
  const text = fc.oneof(
    object.map((o) => JSON.stringify(o)),
    hostileValue.map((v) => JSON.stringify(v) ?? 'null'),
    fc.tuple(fc.constantFrom(...fields), deepJson).map(([field, deep]) => `{"${field}":${deep}}`),
    fc
      .tuple(fc.constantFrom(...fields), fc.constantFrom(null, '\u0000', 'a\u0000b', ['\u0000'], 2 ** 63, -1, '', {}))
      .map(([field, value]) => JSON.stringify({ [field]: value })),
    deepJson,
    hostileText,
  );
  return fc.record({ type: fc.constantFrom('application/json', 'application/json', 'text/plain'), text });
}

function requestArbitrary(op: Operation, realId: string): fc.Arbitrary<FuzzRequest> {
  // ids are fresh UUIDs (404), hostile text, or the one real backup (which only the held lock keeps from being restored or deleted)
  const param = fc.oneof(fc.uuid(), fc.constant(realId), hostileText.filter((s) => s.length > 0));
  const path = fc.array(param, { minLength: op.pathParams.length, maxLength: op.pathParams.length }).map((values) =>
    op.pathParams.reduce((p, name, i) => p.replace(`{${name}}`, encode(values[i])), op.path),
  );
  const query = fc.subarray(op.queryParams).chain((names) =>
    fc.tuple(...names.map((name) => hostileText.map((value): [string, string] => [name, value]))),
  );
  return fc.record({ path, query, body: bodyArbitrary(op) });
}

function operations(document: ReturnType<typeof buildPgBackupDocument>): Operation[] {
  const schemas = document.components?.schemas ?? {};
  const found: Operation[] = [];
  for (const [path, item] of Object.entries(document.paths)) {
    for (const method of ['get', 'post', 'put', 'patch', 'delete'] as const) {
      const op = item[method];
      if (!op) continue;
      const parameters = (op.parameters ?? []) as { in: string; name: string }[];
      const content = (op.requestBody as { content?: Record<string, { schema?: { $ref?: string } }> } | undefined)?.content ?? {};
      const ref = content['application/json']?.schema?.$ref;
      const schema = ref ? (schemas[ref.split('/').pop()!] as { properties?: Record<string, unknown> }) : undefined;
      found.push({
        method: method.toUpperCase(),
        path,
        pathParams: parameters.filter((p) => p.in === 'path').map((p) => p.name),
        queryParams: parameters.filter((p) => p.in === 'query').map((p) => p.name),
        bodyProperties: content['application/json'] ? Object.keys(schema?.properties ?? {}) : null,
        multipart: Boolean(content['multipart/form-data']),
      });
    }
  }
  return found;
}

describe('fuzz: every operation of the OpenAPI document with hostile input', () => {
  let pg: TestPostgres;
  let server: TestApp;
  let origin: string;
  let lockHolder: Client;
  let backupId: string;

  before(async () => {
    pg = await startPostgres();
    pg.psql('create database app');
    pg.psql("create table accounts (id int primary key, email text); insert into accounts select g, 'u' || g || '@example.com' from generate_series(1, 500) g", 'app');
    server = await startApp(pg.url('app'));
    origin = new URL(server.base).origin;
    backupId = (await server.createBackup({ notes: 'the one real backup' })).id;
  });

  after(async () => {
    await lockHolder?.end();
    await server?.close();
    pg?.stop();
  });

  it('answers 400 with a message to the inputs that once answered 500', async () => {
    const raw = async (method: string, path: string, body?: string) => {
      const res = await fetch(`${server.base}${path}`, { method, headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' }, body });
      return { status: res.status, json: (await res.json()) as { message: string | string[] } };
    };
    const cases: [string, string, string?][] = [
      ['PATCH', `/backups/${backupId}`, '{"pinned":null}'],
      ['PATCH', `/backups/${backupId}`, '{"tags":null}'],
      ['PATCH', `/backups/${backupId}`, '{"notes":"a\u0000b"}'],
      ['PATCH', `/backups/${backupId}`, `{"notes":${'['.repeat(5000)}${']'.repeat(5000)}}`],
      ['POST', '/backups', `${'{"a":'.repeat(3000)}1${'}'.repeat(3000)}`],
      ['GET', '/backups?offset=9223372036854775808'],
      ['GET', '/restores?offset=9223372036854775808'],
      ['GET', '/audit?offset=9223372036854775808'],
      ['GET', '/audit?action=a%00b'],
      ['GET', '/backups/%00'],
    ];
    for (const [method, path, body] of cases) {
      const r = await raw(method, path, body);
      assert.equal(r.status, 400, `${method} ${path} ${body?.slice(0, 40) ?? ''}: ${JSON.stringify(r.json)}`);
      assert.ok(String(r.json.message).length > 0);
    }
    const after = (await server.request('GET', `/backups/${backupId}`, { token: admin })).json;
    assert.equal(after.pinned, false);
    assert.deepEqual(after.tags, []);
  });

  it('answers no 5xx, stays up and leaves the user data as it was', { timeout: 240_000 }, async () => {
    // another instance holds the operation lock: a request valid enough to start a backup, scrub,
    // import, restore or delete answers 409 after its validation rather than running (bounded time, nothing changed)
    const key = advisoryLockKey('backup_admin', LockPurpose.Operation);
    lockHolder = new Client({ connectionString: pg.url('app') });
    await lockHolder.connect();
    await lockHolder.query('select pg_advisory_lock($1, $2)', [key.classId, key.objectId]);
    const before = fingerprint(pg, 'app', ['public']);
    const ops = operations(buildPgBackupDocument(server.app));
    assert.ok(ops.length >= 20, `the document lists ${ops.length} operations`);
    const failures: string[] = [];
    const seen = new Map<string, Set<number>>();
    for (const op of ops) {
      const started = Date.now();
      const samples = fc.sample(requestArbitrary(op, backupId), { numRuns: RUNS_PER_OPERATION, seed: SEED });
      for (const sample of samples) {
        const query = sample.query.map(([k, v]) => `${encode(k)}=${encode(v)}`).join('&');
        const url = `${origin}${sample.path}${query ? `?${query}` : ''}`;
        const headers: Record<string, string> = { authorization: `Bearer ${admin}` };
        if (sample.body) headers['content-type'] = sample.body.type;
        const abort = new AbortController();
        const res = await fetch(url, { method: op.method, headers, body: sample.body?.text, signal: abort.signal });
        // the event stream never ends: its status is all there is to check
        const text = res.headers.get('content-type')?.startsWith('text/event-stream') ? (abort.abort(), '') : await res.text();
        (seen.get(`${op.method} ${op.path}`) ?? seen.set(`${op.method} ${op.path}`, new Set()).get(`${op.method} ${op.path}`)!).add(res.status);
        if (res.status >= 500) {
          failures.push(`${op.method} ${url.slice(0, 300)} body ${sample.body?.text.slice(0, 200) ?? '-'} → ${res.status} ${text.slice(0, 300)}`);
        }
      }
      if (process.env.FUZZ_TIMES) console.log(op.method, op.path, Date.now() - started, 'ms');
    }
    assert.deepEqual(failures, [], `${failures.length} requests answered 5xx`);
    assert.equal(seen.size, ops.length, 'every operation was called');
    assert.equal((await fetch(`${origin}/health/live`)).status, 200, 'the server is still up');
    assert.deepEqual(fingerprint(pg, 'app', ['public']), before);
    assert.equal((await server.request('GET', `/backups/${backupId}`, { token: admin })).json.status, 'completed', 'the real backup is still there');
  });
});
