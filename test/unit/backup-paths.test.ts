import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { backupFilename, backupPath } from '../../src/backup/backup-paths';
import { BackupType } from '../../src/backup/backup.types';
import { BackupFormat } from '../../src/pipeline/backup-format';
import { pgConnection, parseToolMajor, quoteIdent, quoteLiteral } from '../../src/infra/process/pg-connection';

const PLAIN: BackupFormat = { compression: 'none', encrypted: false };

describe('backupFilename / backupPath', () => {
  it('names a backup by database, type, UTC time and id prefix', () => {
    const name = backupFilename('shop', BackupType.Manual, new Date('2026-11-23T11:45:12.345Z'), '1a2b3c4d-0000-4000-8000-000000000000', PLAIN);
    assert.equal(name, 'shop-manual-20261123T114512Z-1a2b3c4d.dump');
    assert.equal(backupPath('/var/backups/pg', name), `/var/backups/pg/${name}`);
  });

  it('makes an odd database name safe for a file system', () => {
    const name = backupFilename('my db/ü', BackupType.Scheduled, new Date('2026-01-01T00:00:00Z'), 'abcdef012345', PLAIN);
    assert.equal(name, 'my_db__-scheduled-20260101T000000Z-abcdef01.dump');
    assert.equal(backupPath('/b', name), `/b/${name}`);
  });

  it('gives a database whose name starts with a dot a name backupPath accepts', () => {
    // otherwise every backup of it fails, and its running row blocks the stale-operation sweep
    for (const database of ['.hidden', '..', '../etc']) {
      const name = backupFilename(database, BackupType.Manual, new Date('2026-01-01T00:00:00Z'), 'abcdef012345', PLAIN);
      assert.ok(!name.startsWith('.'), name);
      assert.equal(backupPath('/var/backups/pg', name), `/var/backups/pg/${name}`);
    }
  });

  it('ends the name with one extension per layer: compression, then encryption', () => {
    const createdAt = new Date('2026-11-23T11:45:12Z');
    const cases: [BackupFormat, string][] = [
      [{ compression: 'none', encrypted: false }, '.dump'],
      [{ compression: 'zstd', encrypted: false }, '.dump.zst'],
      [{ compression: 'gzip', encrypted: false }, '.dump.gz'],
      [{ compression: 'none', encrypted: true }, '.dump.age'],
      [{ compression: 'zstd', encrypted: true }, '.dump.zst.age'],
      [{ compression: 'gzip', encrypted: true }, '.dump.gz.age'],
    ];
    for (const [format, extension] of cases) {
      const name = backupFilename('shop', BackupType.Manual, createdAt, '1a2b3c4d-0000', format);
      assert.equal(name, `shop-manual-20261123T114512Z-1a2b3c4d${extension}`);
      assert.equal(backupPath('/var/backups/pg', name), `/var/backups/pg/${name}`, 'backupPath accepts every name backupFilename makes');
    }
  });

  it('refuses names that could leave the backup directory or are not backups', () => {
    const badNames = ['../etc/passwd.dump', 'a/b.dump', '.hidden.dump', 'shop.dump.partial', 'shop.sql', ''];
    // layers in the wrong order, unknown layers, a manifest or partial file of a compressed backup
    badNames.push('shop.dump.age.zst', 'shop.dump.bz2', 'shop.zst', 'shop.dump.zst.gz', 'shop.dump.zst.json', 'shop.dump.gz.age.partial', '../x.dump.zst');
    for (const bad of badNames) {
      assert.throws(() => backupPath('/var/backups/pg', bad), /invalid backup file name/, bad);
    }
  });
});

describe('pgConnection', () => {
  it('strips the password from the argument and puts it, decoded, in PGPASSWORD', () => {
    const c = pgConnection('postgres://u:p%40ss%3Aw0rd@h:5432/db?sslmode=require', 'nestjs-pg-backup:dump');
    assert.ok(!c.dbnameArg.includes('p%40ss') && !c.dbnameArg.includes('p@ss'), c.dbnameArg);
    assert.equal(c.dbnameArg, 'postgres://u@h:5432/db?sslmode=require');
    assert.equal(c.env.PGPASSWORD, 'p@ss:w0rd');
    assert.equal(c.env.PGAPPNAME, 'nestjs-pg-backup:dump');
    assert.equal(c.database, 'db');
  });

  it('sets no PGPASSWORD when the URL has no password', () => {
    assert.equal('PGPASSWORD' in pgConnection('postgres://u@h/db', 'x').env, false);
  });

  it('passes on only a minimal environment, never the parent process secrets', () => {
    const env = pgConnection('postgres://u:pw@h/db', 'x').env;
    assert.deepEqual(Object.keys(env).sort(), ['LANG', 'PATH', 'PGAPPNAME', 'PGCONNECT_TIMEOUT', 'PGOPTIONS', 'PGPASSWORD']);
  });
});

describe('parseToolMajor / quoting', () => {
  it('reads the major version of pg_dump --version output', () => {
    assert.equal(parseToolMajor('pg_dump (PostgreSQL) 15.18 (Debian 15.18-0+deb12u1)'), 15);
    assert.equal(parseToolMajor('pg_dump (PostgreSQL) 17devel'), 17);
    assert.equal(parseToolMajor('bash: pg_dump: command not found'), null);
  });

  it('quotes identifiers and literals by doubling their quote character', () => {
    assert.equal(quoteIdent('we"ird'), '"we""ird"');
    assert.equal(quoteLiteral("it's"), "'it''s'");
  });
});
