import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ArchiveToc, readArchiveToc, TocEntry } from '../../src/backup/archive-toc';
import { backupContents } from '../../src/backup/backup-contents';
import { createsSchema, selectEntries, unknownNames, useListText } from '../../src/restore/restore-selection';

/** Bytes of a 1.14 custom-format archive head holding `entries`, as pg_dump 15 writes it. */
function archiveHead(entries: TocEntry[], { intSize = 4, offSize = 8 } = {}): Buffer {
  const parts: Buffer[] = [];
  const int = (n: number) => {
    const b = Buffer.alloc(1 + intSize);
    b[0] = n < 0 ? 1 : 0;
    let v = Math.abs(n);
    for (let i = 1; i <= intSize; i++) {
      b[i] = v % 256;
      v = Math.floor(v / 256);
    }
    parts.push(b);
  };
  const str = (s: string | null) => {
    if (s === null) return int(-1);
    const bytes = Buffer.from(s, 'utf8');
    int(bytes.length);
    parts.push(bytes);
  };
  parts.push(Buffer.from('PGDMP'), Buffer.from([1, 14, 0, intSize, offSize, 1]));
  int(0); // compression
  for (let i = 0; i < 7; i++) int(1); // creation time
  str('shop');
  str('15.18');
  str('15.18');
  int(entries.length);
  for (const e of entries) {
    int(e.dumpId);
    int(1);
    str('1259');
    str('16384');
    str(e.tag);
    str(e.desc);
    int(1);
    str('CREATE …');
    str('DROP …');
    str('');
    str(e.namespace || null);
    str('');
    str('heap');
    str(e.owner);
    str('false');
    for (const d of e.deps) str(String(d));
    str(null);
    parts.push(Buffer.alloc(1 + offSize));
  }
  parts.push(Buffer.from('data that follows the table of contents'));
  return Buffer.concat(parts);
}

const e = (dumpId: number, desc: string, namespace: string, tag: string, deps: number[] = []): TocEntry => ({ dumpId, desc, namespace, tag, owner: 'app_owner', deps });

/** The entries pg_dump 15 wrote for a small shop (dependencies as it records them). */
const SHOP: TocEntry[] = [
  e(6, 'SCHEMA', '', 'app'),
  e(220, 'FUNCTION', 'app', 'touch()', [6]),
  e(218, 'TABLE', 'app', 'orders', [6]),
  e(3371, 'ACL', 'app', 'TABLE orders', [218]),
  e(219, 'VIEW', 'app', 'big_orders', [218, 6]),
  e(216, 'TABLE', 'app', 'customers', [6]),
  e(215, 'SEQUENCE', 'app', 'customers_id_seq', [6, 216]),
  e(3372, 'SEQUENCE OWNED BY', 'app', 'customers_id_seq', [215]),
  e(217, 'SEQUENCE', 'app', 'orders_id_seq', [6, 218]),
  e(3208, 'DEFAULT', 'app', 'customers id', [215, 216, 216]),
  e(3362, 'TABLE DATA', 'app', 'customers', [216]),
  e(3364, 'TABLE DATA', 'app', 'orders', [218]),
  e(3373, 'SEQUENCE SET', 'app', 'customers_id_seq', [215]),
  e(3374, 'SEQUENCE SET', 'app', 'orders_id_seq', [217]),
  e(3210, 'CONSTRAINT', 'app', 'customers customers_pkey', [216]),
  e(3212, 'CONSTRAINT', 'app', 'orders orders_pkey', [218]),
  e(3213, 'INDEX', 'app', 'orders_total', [218]),
  e(3375, 'COMMENT', 'app', 'INDEX orders_total', [3213]),
  e(3215, 'TRIGGER', 'app', 'orders orders_touch', [220, 218]),
  e(3214, 'FK CONSTRAINT', 'app', 'orders orders_customer_id_fkey', [3210, 218, 216]),
  e(3359, 'ROW SECURITY', 'app', 'orders', [218]),
  e(3360, 'POLICY', 'app', 'orders orders_all', [218]),
  e(7, 'SCHEMA', '', 'reports'),
  e(230, 'TABLE', 'reports', 'daily', [7]),
  e(3380, 'TABLE DATA', 'reports', 'daily', [230]),
  e(3381, 'ACL', '', 'SCHEMA reports', [7]),
];
const TOC: ArchiveToc = { version: '1.14.0', database: 'shop', entries: SHOP };

async function* chunked(buffer: Buffer, size: number): AsyncGenerator<Buffer> {
  for (let at = 0; at < buffer.length; at += size) yield buffer.subarray(at, at + size);
}

describe('readArchiveToc', () => {
  it('decodes every entry with its namespace, owner and dependencies, however the stream is cut', async () => {
    for (const size of [1, 7, 64 * 1024]) {
      const toc = await readArchiveToc(chunked(archiveHead(SHOP), size));
      assert.equal(toc.version, '1.14.0');
      assert.equal(toc.database, 'shop');
      assert.deepEqual(toc.entries, SHOP);
    }
  });

  it('reads 8-byte integers', async () => {
    assert.deepEqual((await readArchiveToc(chunked(archiveHead(SHOP, { intSize: 8 }), 100))).entries, SHOP);
  });

  it('refuses what is not a custom-format archive, a version it does not know, and a cut table of contents', async () => {
    await assert.rejects(readArchiveToc(chunked(Buffer.from('-- PostgreSQL database dump\n'), 10)), /not a custom-format archive/);
    const future = archiveHead(SHOP);
    future[6] = 99;
    await assert.rejects(readArchiveToc(chunked(future, 100)), /archive format 1\.99\.0 is not supported/);
    await assert.rejects(readArchiveToc(chunked(archiveHead(SHOP).subarray(0, 300), 100)), /ends inside its table of contents/);
  });
});

describe('selectEntries', () => {
  it('one table in place: data, constraints, index and its comment, trigger, policy, row security, grant, identity sequence and its value; not its view, not the referenced table', () => {
    const s = selectEntries(TOC, { tables: ['app.orders'], schemas: [] });
    assert.deepEqual(s.dumpIds, [218, 3371, 217, 3364, 3374, 3212, 3213, 3375, 3215, 3214, 3359, 3360]);
    assert.deepEqual(s.tables, ['app.orders']);
    assert.deepEqual(s.leftOut, []);
  });

  it("a referenced table without the other table's foreign key into it; its serial sequence with OWNED BY and DEFAULT", () => {
    const s = selectEntries(TOC, { tables: ['app.customers'], schemas: [] });
    assert.deepEqual(s.dumpIds, [216, 215, 3372, 3208, 3362, 3373, 3210]);
  });

  it('a schema: its entry, everything in it, its grant', () => {
    assert.deepEqual(selectEntries(TOC, { tables: [], schemas: ['reports'] }).dumpIds, [7, 230, 3380, 3381]);
  });

  it('beside: the functions of its schema come along, not the schema entry; a foreign key to a table left behind is left out and named', () => {
    const s = selectEntries(TOC, { tables: ['app.orders'], schemas: [] }, 'beside');
    assert.ok(s.dumpIds.includes(220), 'the trigger function');
    assert.ok(!s.dumpIds.includes(6), 'the schema is made by the restore');
    assert.ok(!s.dumpIds.includes(3214));
    assert.deepEqual(s.leftOut, ['app.orders orders_customer_id_fkey']);
    assert.deepEqual(s.schemas, ['app']);
  });

  it('into another database: the schema comes along; a foreign key between two restored tables stays', () => {
    const s = selectEntries(TOC, { tables: ['app.orders', 'app.customers'], schemas: [] }, 'elsewhere');
    assert.ok(s.dumpIds.includes(6) && s.dumpIds.includes(220) && s.dumpIds.includes(3214));
    assert.deepEqual(s.leftOut, []);
  });

  it('names what the archive lacks', () => {
    assert.deepEqual(unknownNames(TOC, { tables: ['app.orders', 'app.nope', 'reports.orders'], schemas: ['reports', 'ghost'] }), ['app.nope', 'reports.orders', 'ghost']);
    assert.equal(createsSchema(TOC, 'app'), true);
    assert.equal(createsSchema(TOC, 'public'), false);
  });

  it('writes a use-list of the entry ids', () => {
    assert.equal(useListText([218, 3364]), '218;\n3364;\n');
  });
});

describe('backupContents', () => {
  it('summarises the entries with the row counts and sizes recorded at backup time', () => {
    const contents = backupContents(TOC, {
      database: 'shop',
      serverVersion: '15',
      pgDumpVersion: '15',
      productVersion: '0',
      tables: { 'app.orders': 5, 'app.customers': 3 },
      estimatedTables: ['app.customers'],
      tableBytes: { 'app.orders': 8192 },
      largeObjects: 0,
    });
    assert.deepEqual(contents.schemas, ['app', 'reports']);
    assert.deepEqual(contents.tables, [
      { schema: 'app', name: 'customers', rows: 3, rowsEstimated: true, sizeBytes: null },
      { schema: 'app', name: 'orders', rows: 5, rowsEstimated: false, sizeBytes: 8192 },
      { schema: 'reports', name: 'daily', rows: null, rowsEstimated: false, sizeBytes: null },
    ]);
    assert.deepEqual(contents.views, ['app.big_orders']);
    assert.deepEqual(contents.functions, ['app.touch()']);
    assert.deepEqual(contents.sequences, ['app.customers_id_seq', 'app.orders_id_seq']);
    assert.deepEqual(contents.roles, ['app_owner']);
  });
});
