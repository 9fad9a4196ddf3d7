import {
  createCipheriv,
  createDecipheriv,
  createHmac,
  createPrivateKey,
  createPublicKey,
  diffieHellman,
  generateKeyPairSync,
  hkdfSync,
  KeyObject,
  randomBytes,
  scrypt as scryptCallback,
  timingSafeEqual,
} from 'node:crypto';
import { Transform, TransformCallback } from 'node:stream';
import { promisify } from 'node:util';
import { bech32Decode, bech32Encode } from './bech32';

/**
 * The age file format (age-encryption.org/v1) on node:crypto: X25519 and scrypt recipients,
 * ChaCha20-Poly1305 STREAM payload in 64 KiB chunks. Files are readable by the `age` CLI, and
 * files it writes are readable here.
 */

const VERSION_LINE = 'age-encryption.org/v1';
const CHUNK = 64 * 1024;
const TAG = 16;
const X25519_INFO = 'age-encryption.org/v1/X25519';
const SCRYPT_LABEL = 'age-encryption.org/v1/scrypt';
const SCRYPT_LOG_N = 18;
/** Above 2^20 (1 GiB of memory, seconds of CPU) a file could make a decrypt exhaust the server; age's own default is 2^18. */
const MAX_SCRYPT_LOG_N = 20;
const MAX_HEADER = 64 * 1024;
const PKCS8_X25519 = Buffer.from('302e020100300506032b656e04220420', 'hex');
const SPKI_X25519 = Buffer.from('302a300506032b656e032100', 'hex');

export class AgeError extends Error {}

/** None of the configured identities opens the file: a key problem, not damage. */
export class AgeKeyMismatchError extends AgeError {}

export type AgeRecipient = { kind: 'x25519'; publicKey: Buffer } | { kind: 'scrypt'; passphrase: string };
export type AgeIdentity = { kind: 'x25519'; secretKey: Buffer } | { kind: 'scrypt'; passphrase: string };

const b64 = (data: Buffer) => data.toString('base64').replace(/=+$/, '');
function unb64(text: string): Buffer {
  if (!/^[A-Za-z0-9+/]*$/.test(text)) throw new AgeError('malformed header: bad base64');
  return Buffer.from(text, 'base64');
}

function hkdf(ikm: Buffer, salt: Buffer, info: string): Buffer {
  return Buffer.from(hkdfSync('sha256', ikm, salt, info, 32));
}

function seal(key: Buffer, nonce: Buffer, plaintext: Buffer): Buffer {
  const cipher = createCipheriv('chacha20-poly1305', key, nonce, { authTagLength: TAG });
  return Buffer.concat([cipher.update(plaintext), cipher.final(), cipher.getAuthTag()]);
}

function open(key: Buffer, nonce: Buffer, sealed: Buffer): Buffer | null {
  if (sealed.length < TAG) return null;
  const decipher = createDecipheriv('chacha20-poly1305', key, nonce, { authTagLength: TAG });
  decipher.setAuthTag(sealed.subarray(sealed.length - TAG));
  try {
    return Buffer.concat([decipher.update(sealed.subarray(0, sealed.length - TAG)), decipher.final()]);
  } catch {
    return null;
  }
}

const privateKey = (raw: Buffer): KeyObject => createPrivateKey({ key: Buffer.concat([PKCS8_X25519, raw]), format: 'der', type: 'pkcs8' });
const publicKey = (raw: Buffer): KeyObject => createPublicKey({ key: Buffer.concat([SPKI_X25519, raw]), format: 'der', type: 'spki' });
const rawPublic = (key: KeyObject): Buffer => key.export({ format: 'der', type: 'spki' }).subarray(SPKI_X25519.length);

function x25519(secret: Buffer, peer: Buffer): Buffer {
  const shared = diffieHellman({ privateKey: privateKey(secret), publicKey: publicKey(peer) });
  if (shared.every((b) => b === 0)) throw new AgeError('X25519 produced an all-zero secret');
  return shared;
}

// ---- keys -------------------------------------------------------------------------------

export function parseRecipient(text: string): AgeRecipient {
  const { hrp, data } = bech32Decode(text.trim());
  if (hrp !== 'age' || data.length !== 32) throw new AgeError(`not an age X25519 recipient: ${text.slice(0, 12)}…`);
  return { kind: 'x25519', publicKey: data };
}

/** Identity file contents: AGE-SECRET-KEY-1… lines; `#` comments and blank lines ignored. */
export function parseIdentities(text: string): AgeIdentity[] {
  const identities = text
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line && !line.startsWith('#'))
    .map((line): AgeIdentity => {
      const { hrp, data } = bech32Decode(line);
      if (hrp !== 'age-secret-key-' || data.length !== 32) throw new AgeError('not an age X25519 identity (AGE-SECRET-KEY-1…)');
      return { kind: 'x25519', secretKey: data };
    });
  if (!identities.length) throw new AgeError('no identity (AGE-SECRET-KEY-1…) found');
  return identities;
}

export function generateIdentity(): { identity: string; recipient: string } {
  const { privateKey: secret } = generateKeyPairSync('x25519');
  const raw = secret.export({ format: 'der', type: 'pkcs8' }).subarray(PKCS8_X25519.length);
  return {
    identity: bech32Encode('age-secret-key-', raw).toUpperCase(),
    recipient: bech32Encode('age', rawPublic(createPublicKey(secret))),
  };
}

export function recipientOf(identity: AgeIdentity): string | null {
  if (identity.kind !== 'x25519') return null;
  return recipientString(rawPublic(createPublicKey(privateKey(identity.secretKey))));
}

/** `age1…` for a raw X25519 public key. */
export function recipientString(publicKey: Buffer): string {
  return bech32Encode('age', publicKey);
}

// ---- header -----------------------------------------------------------------------------

interface Stanza {
  type: string;
  args: string[];
  body: Buffer;
}

function wrapBody(body: Buffer): string {
  const text = b64(body);
  const lines: string[] = [];
  for (let i = 0; i < text.length; i += 64) lines.push(text.slice(i, i + 64));
  if (text.length % 64 === 0) lines.push('');
  return lines.join('\n');
}

async function stanzaFor(recipient: AgeRecipient, fileKey: Buffer): Promise<Stanza> {
  if (recipient.kind === 'x25519') {
    const { privateKey: ephemeral } = generateKeyPairSync('x25519');
    const ephemeralRaw = ephemeral.export({ format: 'der', type: 'pkcs8' }).subarray(PKCS8_X25519.length);
    const share = rawPublic(createPublicKey(ephemeral));
    const key = hkdf(x25519(ephemeralRaw, recipient.publicKey), Buffer.concat([share, recipient.publicKey]), X25519_INFO);
    return { type: 'X25519', args: [b64(share)], body: seal(key, Buffer.alloc(12), fileKey) };
  }
  const salt = randomBytes(16);
  const key = await scrypt(recipient.passphrase, salt, SCRYPT_LOG_N);
  return { type: 'scrypt', args: [b64(salt), String(SCRYPT_LOG_N)], body: seal(key, Buffer.alloc(12), fileKey) };
}

const scryptAsync = promisify(scryptCallback) as (password: Buffer, salt: Buffer, keylen: number, options: object) => Promise<Buffer>;

/** In the thread pool: a 2^18 work factor takes over a second and must not stall the event loop. */
function scrypt(passphrase: string, salt: Buffer, logN: number): Promise<Buffer> {
  const N = 2 ** logN;
  return scryptAsync(Buffer.from(passphrase, 'utf8'), Buffer.concat([Buffer.from(SCRYPT_LABEL), salt]), 32, {
    N,
    r: 8,
    p: 1,
    maxmem: 256 * N * 8,
  });
}

function headerMac(fileKey: Buffer, headerUpToDashes: string): Buffer {
  return createHmac('sha256', hkdf(fileKey, Buffer.alloc(0), 'header')).update(headerUpToDashes).digest();
}

export async function encodeHeader(recipients: AgeRecipient[], fileKey: Buffer): Promise<Buffer> {
  if (!recipients.length) throw new AgeError('no recipients');
  if (recipients.some((r) => r.kind === 'scrypt') && recipients.length > 1) throw new AgeError('a passphrase must be the only recipient');
  let text = `${VERSION_LINE}\n`;
  for (const stanza of await Promise.all(recipients.map((r) => stanzaFor(r, fileKey)))) {
    text += `-> ${[stanza.type, ...stanza.args].join(' ')}\n${wrapBody(stanza.body)}\n`;
  }
  text += '---';
  return Buffer.from(`${text} ${b64(headerMac(fileKey, text))}\n`);
}

/** Parses a complete header (through its MAC line); returns null while more bytes are needed. */
function parseHeader(buffer: Buffer): { stanzas: Stanza[]; macInput: string; mac: Buffer; length: number } | null {
  const end = buffer.indexOf('\n---');
  if (end < 0) {
    if (buffer.length > MAX_HEADER) throw new AgeError('malformed header: too long');
    if (buffer.length >= VERSION_LINE.length && !buffer.subarray(0, VERSION_LINE.length).equals(Buffer.from(VERSION_LINE))) {
      throw new AgeError('not an age file');
    }
    return null;
  }
  const macLineEnd = buffer.indexOf('\n', end + 1);
  if (macLineEnd < 0) return null;
  const text = buffer.subarray(0, end + 4).toString('latin1');
  const macLine = buffer.subarray(end + 1, macLineEnd).toString('latin1');
  const lines = text.split('\n');
  if (lines[0] !== VERSION_LINE) throw new AgeError('not an age file');
  const stanzas: Stanza[] = [];
  let i = 1;
  while (i < lines.length && lines[i].startsWith('-> ')) {
    const [type, ...args] = lines[i].slice(3).split(' ');
    i++;
    const bodyLines: string[] = [];
    for (;;) {
      if (i >= lines.length) throw new AgeError('malformed header: unterminated stanza');
      const line = lines[i++];
      bodyLines.push(line);
      if (line.length < 64) break;
    }
    stanzas.push({ type, args, body: unb64(bodyLines.join('')) });
  }
  if (lines[i] !== '---' || !macLine.startsWith('--- ')) throw new AgeError('malformed header');
  return { stanzas, macInput: text, mac: unb64(macLine.slice(4)), length: macLineEnd + 1 };
}

async function unwrapFileKey(stanzas: Stanza[], identities: AgeIdentity[]): Promise<Buffer | null> {
  for (const identity of identities) {
    for (const stanza of stanzas) {
      if (identity.kind === 'x25519' && stanza.type === 'X25519') {
        const share = unb64(stanza.args[0] ?? '');
        if (share.length !== 32) throw new AgeError('malformed X25519 stanza');
        const ownPublic = rawPublic(createPublicKey(privateKey(identity.secretKey)));
        const key = hkdf(x25519(identity.secretKey, share), Buffer.concat([share, ownPublic]), X25519_INFO);
        const fileKey = open(key, Buffer.alloc(12), stanza.body);
        if (fileKey) return fileKey;
      }
      if (identity.kind === 'scrypt' && stanza.type === 'scrypt') {
        if (stanzas.length !== 1) throw new AgeError('a scrypt stanza must be alone');
        const logN = Number(stanza.args[1]);
        if (!Number.isInteger(logN) || logN < 1 || logN > MAX_SCRYPT_LOG_N) {
          throw new AgeError(`scrypt work factor 2^${stanza.args[1]} refused: at most 2^${MAX_SCRYPT_LOG_N} is accepted (the file's own header asks for it)`);
        }
        const fileKey = open(await scrypt(identity.passphrase, unb64(stanza.args[0] ?? ''), logN), Buffer.alloc(12), stanza.body);
        if (fileKey) return fileKey;
      }
    }
  }
  return null;
}

// ---- payload ----------------------------------------------------------------------------

function chunkNonce(counter: number, last: boolean): Buffer {
  const nonce = Buffer.alloc(12);
  nonce.writeUIntBE(counter, 5, 6);
  nonce[11] = last ? 1 : 0;
  return nonce;
}

/** Plaintext in, age file out. */
export class AgeEncryptStream extends Transform {
  private readonly payloadKey: Buffer;
  /** Header and payload nonce, written before the first chunk (a passphrase's scrypt runs off the event loop). */
  private preamble: Promise<Buffer> | null;
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private counter = 0;

  constructor(recipients: AgeRecipient[]) {
    super();
    const fileKey = randomBytes(16);
    const nonce = randomBytes(16);
    this.payloadKey = hkdf(fileKey, nonce, 'payload');
    this.preamble = encodeHeader(recipients, fileKey).then((header) => Buffer.concat([header, nonce]));
    this.preamble.catch(() => undefined); // reported by the first write
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.afterPreamble(callback, () => {
      this.pending.push(chunk);
      this.pendingBytes += chunk.length;
      // Keep at least one byte back: only at the end is it known which chunk is the last.
      if (this.pendingBytes > CHUNK) {
        let data = Buffer.concat(this.pending);
        while (data.length > CHUNK) {
          this.push(seal(this.payloadKey, chunkNonce(this.counter++, false), data.subarray(0, CHUNK)));
          data = data.subarray(CHUNK);
        }
        this.pending = [data];
        this.pendingBytes = data.length;
      }
    });
  }

  override _flush(callback: TransformCallback): void {
    this.afterPreamble(callback, () => this.push(seal(this.payloadKey, chunkNonce(this.counter++, true), Buffer.concat(this.pending))));
  }

  private afterPreamble(callback: TransformCallback, work: () => void): void {
    if (!this.preamble) {
      work();
      return callback();
    }
    this.preamble.then(
      (preamble) => {
        this.preamble = null;
        this.push(preamble);
        work();
        callback();
      },
      (error: Error) => callback(error),
    );
  }
}

/** An age file in, plaintext out; fails before any output on a wrong key, and on any damaged chunk. */
export class AgeDecryptStream extends Transform {
  private header = Buffer.alloc(0);
  private payloadKey: Buffer | null = null;
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private counter = 0;

  constructor(private readonly identities: AgeIdentity[]) {
    super();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    if (this.payloadKey) return this.decrypt(chunk, callback);
    this.header = Buffer.concat([this.header, chunk]);
    this.readHeader().then(
      (rest) => (rest ? this.decrypt(rest, callback) : callback()),
      (error: Error) => callback(error),
    );
  }

  private decrypt(chunk: Buffer, callback: TransformCallback): void {
    try {
      this.pending.push(chunk);
      this.pendingBytes += chunk.length;
      if (this.pendingBytes > CHUNK + TAG) {
        let data = Buffer.concat(this.pending);
        while (data.length > CHUNK + TAG) {
          this.push(this.openChunk(data.subarray(0, CHUNK + TAG), false));
          data = data.subarray(CHUNK + TAG);
        }
        this.pending = [data];
        this.pendingBytes = data.length;
      }
      callback();
    } catch (error) {
      callback(error as Error);
    }
  }

  override _flush(callback: TransformCallback): void {
    try {
      if (!this.payloadKey) throw new AgeError('truncated age file: incomplete header');
      const last = Buffer.concat(this.pending);
      if (last.length === 0) throw new AgeError('truncated age file: the last chunk is missing');
      const plain = this.openChunk(last, true);
      if (plain.length === 0 && this.counter > 1) throw new AgeError('malformed age file: empty last chunk');
      this.push(plain);
      callback();
    } catch (error) {
      callback(error as Error);
    }
  }

  /** Returns the bytes after header and nonce once both are complete. */
  private async readHeader(): Promise<Buffer | null> {
    const parsed = parseHeader(this.header);
    if (!parsed || this.header.length < parsed.length + 16) return null;
    const fileKey = await unwrapFileKey(parsed.stanzas, this.identities);
    if (!fileKey) throw new AgeKeyMismatchError('no identity matches this file (wrong key or passphrase)');
    const expected = headerMac(fileKey, parsed.macInput);
    if (parsed.mac.length !== expected.length || !timingSafeEqual(parsed.mac, expected)) throw new AgeError('header MAC mismatch: the file was altered');
    this.payloadKey = hkdf(fileKey, this.header.subarray(parsed.length, parsed.length + 16), 'payload');
    const rest = this.header.subarray(parsed.length + 16);
    this.header = Buffer.alloc(0);
    return rest;
  }

  private openChunk(sealed: Buffer, last: boolean): Buffer {
    const plain = open(this.payloadKey!, chunkNonce(this.counter, last), sealed);
    if (!plain) {
      throw new AgeError(
        last ? 'damaged or truncated age file: the last chunk does not authenticate' : `damaged age file: chunk ${this.counter} does not authenticate`,
      );
    }
    this.counter++;
    return plain;
  }
}
