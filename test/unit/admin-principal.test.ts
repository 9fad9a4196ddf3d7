import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { principalFromClaims } from '../../src/auth/admin-principal';
import { accessLevel, grants, PERMISSION_LEVELS, permissionsOf } from '../../src/auth/permissions';

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

describe('accessLevel', () => {
  const roles = { adminRoles: ['admin', 'ops'], operatorRoles: ['backup-operator'], viewerRoles: ['auditor'] };

  it('is admin when any role is an admin role', () => {
    assert.equal(accessLevel({ sub: 'a', roles: ['viewer', 'ops'] }, roles), 'admin');
  });

  it('is the highest level any role grants', () => {
    assert.equal(accessLevel({ sub: 'a', roles: ['auditor', 'backup-operator'] }, roles), 'operator');
    assert.equal(accessLevel({ sub: 'a', roles: ['auditor', 'backup-operator', 'admin'] }, roles), 'admin');
    assert.equal(accessLevel({ sub: 'a', roles: ['auditor'] }, roles), 'viewer');
  });

  it('is null without a matching role, without roles, or with no roles configured', () => {
    assert.equal(accessLevel({ sub: 'a', roles: ['viewer'] }, roles), null);
    assert.equal(accessLevel({ sub: 'a', roles: [] }, roles), null);
    assert.equal(accessLevel({ sub: 'a', roles: ['admin'] }, { adminRoles: [] }), null);
    assert.equal(accessLevel({ sub: 'a', roles: ['backup-operator'] }, { adminRoles: ['admin'] }), null, 'operator and viewer roles are none by default');
  });

  it('compares role names exactly', () => {
    assert.equal(accessLevel({ sub: 'a', roles: ['Admin', 'admins', ' admin', 'Auditor'] }, roles), null);
  });

  it('grants admin from a single role claim', () => {
    assert.equal(accessLevel(principalFromClaims({ sub: 'b', role: 'admin' }), roles), 'admin');
  });
});

describe('permissions', () => {
  it('nest: admin holds every permission, operator the viewer ones and its own, viewer reads only', () => {
    const all = Object.keys(PERMISSION_LEVELS);
    assert.deepEqual(permissionsOf('admin'), all);
    assert.ok(permissionsOf('viewer').every((p) => permissionsOf('operator').includes(p)));
    assert.ok(permissionsOf('viewer').every((p) => p.endsWith('.read')), permissionsOf('viewer').join());
    assert.equal(grants('viewer', 'operator'), false);
    assert.equal(grants('operator', 'admin'), false);
    assert.equal(grants('admin', 'viewer'), true);
  });

  it('keep restore, delete, cleanup, settings, upload, import and cancel for admins', () => {
    const operator = permissionsOf('operator');
    for (const p of ['backup.restore', 'backup.delete', 'backup.cleanup', 'config.update', 'backup.upload', 'backup.import', 'operation.cancel'] as const) {
      assert.equal(PERMISSION_LEVELS[p], 'admin');
      assert.ok(!operator.includes(p), p);
    }
    assert.deepEqual(
      operator.filter((p) => !p.endsWith('.read')),
      ['backup.create', 'backup.verify', 'backup.drill', 'backup.download', 'backup.pin'],
    );
  });
});
