import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseToolVersion, supportsRestrict } from '../../src/infra/process/pg-tools.repository';

describe('the \\restrict check (CVE-2025-8714)', () => {
  it('reads major and minor from --version output', () => {
    assert.deepEqual(parseToolVersion('pg_restore (PostgreSQL) 15.18 (Debian 15.18-0+deb12u1)'), { major: 15, minor: 18 });
    assert.deepEqual(parseToolVersion('psql (PostgreSQL) 17.6'), { major: 17, minor: 6 });
    assert.deepEqual(parseToolVersion('psql (PostgreSQL) 18beta1'), { major: 18, minor: 0 });
    assert.equal(parseToolVersion('psql: command not found'), null);
  });

  it('judges by the minor release, not only the major', () => {
    const cases: Array<[string, boolean]> = [
      ['17.5', false],
      ['17.6', true],
      ['16.9', false],
      ['16.10', true],
      ['15.13', false],
      ['15.14', true],
      ['15.18', true],
      ['14.18', false],
      ['14.19', true],
      ['13.21', false],
      ['13.22', true],
      ['12.22', false],
      ['18.0', true],
      ['19.1', true],
    ];
    for (const [version, expected] of cases) {
      assert.equal(supportsRestrict(parseToolVersion(`psql (PostgreSQL) ${version}`)), expected, version);
    }
    assert.equal(supportsRestrict(null), false, 'an unreadable version is not trusted');
  });
});
