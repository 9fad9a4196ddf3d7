import { createHmac, createSign, KeyObject } from 'node:crypto';

const b64 = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');

export function hs256(claims: object, secret: string, { expiresIn = 3600, alg = 'HS256' } = {}): string {
  const now = Math.floor(Date.now() / 1000);
  const unsigned = `${b64({ alg, typ: 'JWT' })}.${b64({ iat: now, exp: now + expiresIn, ...claims })}`;
  if (alg === 'none') return `${unsigned}.`;
  return `${unsigned}.${createHmac('sha256', secret).update(unsigned).digest('base64url')}`;
}

export function rs256(claims: object, privateKey: KeyObject, expiresIn = 3600): string {
  const now = Math.floor(Date.now() / 1000);
  const unsigned = `${b64({ alg: 'RS256', typ: 'JWT' })}.${b64({ iat: now, exp: now + expiresIn, ...claims })}`;
  return `${unsigned}.${createSign('RSA-SHA256').update(unsigned).sign(privateKey).toString('base64url')}`;
}
