import { createHmac } from 'node:crypto';

/** An HS256 admin token for local development. */
export function devAdminToken(secret: string, lifetimeSeconds = 86_400): string {
  const now = Math.floor(Date.now() / 1000);
  const encode = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
  const unsigned = `${encode({ alg: 'HS256', typ: 'JWT' })}.${encode({ sub: 'dev-admin', roles: ['admin'], iat: now, exp: now + lifetimeSeconds })}`;
  return `${unsigned}.${createHmac('sha256', secret).update(unsigned).digest('base64url')}`;
}
