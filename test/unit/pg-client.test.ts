import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { nodeTls, pgClientConfig, sessionOptions, tlsSettings } from '../../src/database/pg-client';
import { pgConnection } from '../../src/infra/process/pg-connection';

describe('session settings', () => {
  it('turn every timeout a role could set off, and keepalives on, for node-pg and the children alike', () => {
    const options = sessionOptions();
    for (const setting of ['statement_timeout=0', 'lock_timeout=0', 'idle_in_transaction_session_timeout=0', 'tcp_keepalives_idle=10']) {
      assert.ok(options.includes(`-c ${setting}`), setting);
    }
    assert.ok(!options.includes('idle_session_timeout='), 'PostgreSQL 13 rejects the name at connect');
    assert.ok(sessionOptions({ idleSessionTimeout: true }).includes('-c idle_session_timeout=0'));
    assert.equal(pgConnection('postgres://u@h/db', 'x').env.PGOPTIONS, options);
    const config = pgClientConfig('postgres://u@h/db', 'x');
    assert.equal(config.options, options);
    assert.equal(config.keepAlive, true);
    assert.equal(config.keepAliveInitialDelayMillis, 10_000);
  });
});

describe('TLS settings', () => {
  const dir = mkdtempSync(join(tmpdir(), 'pgb-tls-'));
  const ca = join(dir, 'root.crt');
  writeFileSync(ca, 'CA');

  it('the URL query wins over PGSSL*, as in libpq; the children get both', () => {
    const env = { PGSSLMODE: 'verify-full', PGSSLROOTCERT: ca };
    assert.deepEqual(tlsSettings('postgres://u@h/db?sslmode=require', env), { sslmode: 'require', sslrootcert: ca });
    assert.deepEqual(tlsSettings('postgres://u@h/db', {}), {});
    const saved = { ...process.env };
    try {
      process.env.PGSSLMODE = 'verify-ca';
      process.env.PGSSLROOTCERT = ca;
      const child = pgConnection('postgres://u@h/db', 'x').env;
      assert.equal(child.PGSSLMODE, 'verify-ca');
      assert.equal(child.PGSSLROOTCERT, ca);
      assert.equal(pgConnection('postgres://u@h/db?sslmode=verify-full', 'x').env.PGSSLMODE, 'verify-full');
    } finally {
      for (const key of ['PGSSLMODE', 'PGSSLROOTCERT']) if (!(key in saved)) delete process.env[key];
    }
  });

  it("gives node-pg libpq's meaning of each sslmode, and strips the query node-pg would read otherwise", () => {
    assert.equal(nodeTls({}), false);
    assert.equal(nodeTls({ sslmode: 'prefer' }), false);
    assert.deepEqual(nodeTls({ sslmode: 'require' }), { rejectUnauthorized: false });
    const verifyCa = nodeTls({ sslmode: 'require', sslrootcert: ca });
    assert.ok(verifyCa && verifyCa.rejectUnauthorized === true && verifyCa.ca?.toString() === 'CA' && verifyCa.checkServerIdentity);
    const full = nodeTls({ sslmode: 'verify-full', sslrootcert: ca });
    assert.ok(full && full.rejectUnauthorized === true && full.checkServerIdentity === undefined);
    const config = pgClientConfig(`postgres://u@h/db?sslmode=verify-full&sslrootcert=${encodeURIComponent(ca)}&connect_timeout=5`);
    assert.equal(config.connectionString, 'postgres://u@h/db?connect_timeout=5');
    assert.deepEqual(config.ssl, full);
  });
});
