import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { jwksProblems, tokenLifetimeProblem } from '../../src/auth/token-policy';
import { devAdminToken } from '../../src/embedded/dev-token';

const NOW = 1_800_000_000;

describe('tokenLifetimeProblem', () => {
  it('refuses a token without exp, or with a non-numeric one', () => {
    assert.equal(tokenLifetimeProblem({ iat: NOW }, 3600, NOW), 'the token has no exp claim');
    assert.equal(tokenLifetimeProblem({ iat: NOW, exp: '9999999999' }, 3600, NOW), 'the token has no exp claim');
  });

  it('measures exp - iat, or exp - now without iat', () => {
    assert.equal(tokenLifetimeProblem({ iat: NOW, exp: NOW + 3600 }, 3600, NOW), null);
    assert.match(tokenLifetimeProblem({ iat: NOW, exp: NOW + 3601 }, 3600, NOW)!, /3601 s, longer than the 3600 s/);
    assert.equal(tokenLifetimeProblem({ exp: NOW + 3600 }, 3600, NOW), null);
    assert.match(tokenLifetimeProblem({ exp: NOW + 7200 }, 3600, NOW)!, /longer than/);
    // iat backdated far into the past does not help a far-future exp
    assert.match(tokenLifetimeProblem({ iat: NOW - 10, exp: NOW + 10 * 86_400 }, 86_400, NOW)!, /longer than/);
  });

  it('the development token carries exp within the default maximum', () => {
    const claims = JSON.parse(Buffer.from(devAdminToken('dev-secret-0123456789abcdef').split('.')[1], 'base64url').toString());
    assert.equal(tokenLifetimeProblem(claims, 86_400), null);
  });
});

describe('jwksProblems', () => {
  const complete = { jwksUri: 'https://idp.example.com/.well-known/jwks.json', issuer: 'https://idp.example.com/', audience: 'pg-backup' };

  it('accepts https with issuer and audience, and http on this machine', () => {
    assert.deepEqual(jwksProblems(complete), []);
    for (const host of ['localhost', '127.0.0.1', '[::1]']) assert.deepEqual(jwksProblems({ ...complete, jwksUri: `http://${host}:8080/jwks.json` }), []);
    assert.deepEqual(jwksProblems({}), []);
  });

  it('requires issuer and audience and refuses http elsewhere', () => {
    assert.equal(jwksProblems({ ...complete, issuer: undefined }).length, 1);
    assert.equal(jwksProblems({ ...complete, audience: undefined }).length, 1);
    assert.match(jwksProblems({ ...complete, jwksUri: 'http://idp.example.com/jwks.json' })[0], /https/);
    assert.match(jwksProblems({ ...complete, jwksUri: 'http://localhost.evil.example/jwks.json' })[0], /https/);
  });
});
