import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { isAdmin, principalFromClaims } from '../../src/auth/admin-principal';

describe('principalFromClaims', () => {
  it('reads a roles array, ignoring entries that are not strings', () => {
    assert.deepEqual(principalFromClaims({ sub: 'alice', roles: ['admin', 42, null, 'ops'] }), { sub: 'alice', roles: ['admin', 'ops'] });
  });

  it('reads a single role string', () => {
    assert.deepEqual(principalFromClaims({ sub: 'bob', role: 'admin' }), { sub: 'bob', roles: ['admin'] });
  });

  it('merges a roles array and a role string', () => {
    assert.deepEqual(principalFromClaims({ sub: 'carol', roles: ['viewer'], role: 'admin' }).roles, ['viewer', 'admin']);
  });

  it('has no roles when the token carries none, or carries them in the wrong shape', () => {
    assert.deepEqual(principalFromClaims({ sub: 'dave' }).roles, []);
    assert.deepEqual(principalFromClaims({ sub: 'dave', roles: 'admin', role: ['admin'] }).roles, []);
  });

  it('names a subject-less or non-string subject "unknown"', () => {
    assert.equal(principalFromClaims({}).sub, 'unknown');
    assert.equal(principalFromClaims({ sub: '' }).sub, 'unknown');
    assert.equal(principalFromClaims({ sub: 12 }).sub, 'unknown');
  });
});

describe('isAdmin', () => {
  it('is true when any role is an admin role', () => {
    assert.equal(isAdmin({ sub: 'a', roles: ['viewer', 'ops'] }, ['admin', 'ops']), true);
  });

  it('is false without a matching role, without roles, or with no admin roles configured', () => {
    assert.equal(isAdmin({ sub: 'a', roles: ['viewer'] }, ['admin']), false);
    assert.equal(isAdmin({ sub: 'a', roles: [] }, ['admin']), false);
    assert.equal(isAdmin({ sub: 'a', roles: ['admin'] }, []), false);
  });

  it('compares role names exactly', () => {
    assert.equal(isAdmin({ sub: 'a', roles: ['Admin', 'admins', ' admin'] }, ['admin']), false);
  });

  it('grants admin from a single role claim', () => {
    assert.equal(isAdmin(principalFromClaims({ sub: 'b', role: 'admin' }), ['admin']), true);
  });
});
