import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { postgresVersionProblem } from '../../src/database/postgres-version';

describe('postgresVersionProblem', () => {
  it('accepts PostgreSQL 14 and later', () => {
    assert.equal(postgresVersionProblem(140000, '14.0'), null);
    assert.equal(postgresVersionProblem(150014, '15.14 (Debian 15.14-0+deb12u1)'), null);
    assert.equal(postgresVersionProblem(170002, '17.2'), null);
  });

  it('refuses 13 and older, naming the version found and the one required', () => {
    assert.match(postgresVersionProblem(130018, '13.18')!, /PostgreSQL 14 or later is required .* this server is 13\.18$/);
    assert.match(postgresVersionProblem(90624, '9.6.24')!, /this server is 9\.6\.24/);
  });

  it('refuses an unreadable version', () => {
    assert.match(postgresVersionProblem(Number.NaN, '')!, /could not read/);
  });
});
