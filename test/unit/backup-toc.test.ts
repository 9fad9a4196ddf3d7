import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseToc } from '../../src/restore/backup-toc';

/** As pg_restore 15 lists RICH_FIXTURE's dump: names are not quoted, an entry without owner ends in a space. */
const LIST = `;
; Archive created at 2026-12-02 16:00:00 UTC
;     dbname: shop
;
; Selected TOC Entries:
;
6; 2615 16390 SCHEMA - Mixed Case postgres
5; 2615 16389 SCHEMA - app postgres
2; 3079 16385 EXTENSION - pgcrypto 
4001; 0 0 COMMENT - EXTENSION pgcrypto 
880; 1247 16392 TYPE app mood postgres
881; 1247 16400 DOMAIN app email postgres
240; 1255 16450 FUNCTION Mixed Case Add(integer, integer) postgres
241; 1255 16451 FUNCTION app touch() postgres
220; 1259 16460 TABLE Mixed Case Events postgres
221; 1259 16470 TABLE app orders reporting_owner
222; 1259 16480 SEQUENCE app invoice_seq postgres
223; 1259 16490 VIEW app user_totals postgres
224; 1259 16495 MATERIALIZED VIEW app big_spenders postgres
3400; 0 16460 TABLE DATA Mixed Case Events postgres
3401; 2606 16500 CONSTRAINT app orders orders_pkey postgres
3402; 0 0 ACL - SCHEMA app postgres
3403; 0 0 SEQUENCE SET app invoice_seq postgres
3404; 2613 16600 BLOB - 16600 
`;

describe('parseToc', () => {
  const entries = parseToc(LIST.split('\n'));
  const find = (desc: string, name: string) => entries.find((e) => e.desc === desc && e.name === name);

  it('skips comments and reads desc, schema, tag and owner of every entry', () => {
    assert.equal(entries.length, 18);
    assert.deepEqual(
      { ...find('TABLE', 'orders'), line: undefined },
      { line: undefined, desc: 'TABLE', schema: 'app', name: 'orders', owner: 'reporting_owner' },
    );
  });

  it("tells a schema name with a space apart by the backup's own SCHEMA entries", () => {
    assert.deepEqual(find('SCHEMA', 'Mixed Case')?.schema, null);
    assert.equal(find('TABLE', 'Events')?.schema, 'Mixed Case');
    assert.equal(find('TABLE DATA', 'Events')?.schema, 'Mixed Case');
    assert.equal(find('FUNCTION', 'Add(integer, integer)')?.schema, 'Mixed Case');
  });

  it('takes the longest desc: MATERIALIZED VIEW, TABLE DATA, SEQUENCE SET are not their prefixes', () => {
    assert.equal(find('MATERIALIZED VIEW', 'big_spenders')?.schema, 'app');
    assert.equal(find('SEQUENCE SET', 'invoice_seq')?.schema, 'app');
    assert.equal(find('CONSTRAINT', 'orders orders_pkey')?.owner, 'postgres');
  });

  it('an entry without owner (an extension, a large object) has owner null', () => {
    assert.deepEqual({ ...find('EXTENSION', 'pgcrypto'), line: undefined }, { line: undefined, desc: 'EXTENSION', schema: null, name: 'pgcrypto', owner: null });
    assert.equal(find('BLOB', '16600')?.owner, null);
  });
});
