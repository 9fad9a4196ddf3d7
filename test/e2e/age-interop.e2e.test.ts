import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { describe, it } from 'node:test';
import {
  AgeDecryptStream,
  AgeEncryptStream,
  AgeIdentity,
  AgeRecipient,
  generateIdentity,
  parseIdentities,
  parseRecipient,
  recipientOf,
} from '../../src/crypto/age';

const dir = mkdtempSync(join(tmpdir(), 'pgb-age-'));
const SIZES = [0, 1, 65_535, 65_536, 65_537, 131_072, 300_001];

async function run(stream: NodeJS.ReadWriteStream, input: Buffer, readSize = 7919): Promise<Buffer> {
  const out: Buffer[] = [];
  const source = Readable.from((function* () {
    for (let i = 0; i < input.length; i += readSize) yield input.subarray(i, i + readSize);
  })());
  await pipeline(source, stream, async function* (chunks: AsyncIterable<Buffer | string>) {
    for await (const chunk of chunks) out.push(Buffer.from(chunk));
  });
  return Buffer.concat(out);
}

const encrypt = (recipients: AgeRecipient[], data: Buffer) => run(new AgeEncryptStream(recipients), data);
const decrypt = (identities: AgeIdentity[], data: Buffer) => run(new AgeDecryptStream(identities), data);

/** The age CLI asks for passphrases on a terminal: give it one with script(1). */
function ageWithPassphrase(args: string[], passphrase: string, confirm: boolean): void {
  const answers = confirm ? `sleep 0.3; printf '%s\\n' "$PW"; sleep 0.3; printf '%s\\n' "$PW"; sleep 1` : `sleep 0.3; printf '%s\\n' "$PW"; sleep 1`;
  const result = spawnSync('bash', ['-c', `(${answers}) | script -q -e -c "age ${args.join(' ')}" /dev/null`], {
    env: { ...process.env, PW: passphrase },
    encoding: 'utf8',
  });
  if (result.status !== 0) throw new Error(`age ${args.join(' ')}: ${result.stdout}${result.stderr}`);
}

describe('age format interoperability with the age CLI', () => {
  const { identity, recipient } = generateIdentity();
  const identityFile = join(dir, 'identity.txt');
  writeFileSync(identityFile, `# test key\n${identity}\n`);

  it('generates keys the CLI accepts and derives the recipient from the identity', () => {
    assert.match(recipient, /^age1[02-9ac-hj-np-z]{58}$/);
    assert.match(identity, /^AGE-SECRET-KEY-1[02-9AC-HJ-NP-Z]{58}$/);
    assert.equal(recipientOf(parseIdentities(identity)[0]), recipient);
    assert.equal(execFileSync('age-keygen', ['-y', identityFile], { encoding: 'utf8' }).trim(), recipient);
  });

  for (const size of SIZES) {
    it(`X25519, ${size} bytes: ours → age -d and age -r → ours`, async () => {
      const data = randomBytes(size);
      writeFileSync(join(dir, 'ours.age'), await encrypt([parseRecipient(recipient)], data));
      assert.ok(execFileSync('age', ['-d', '-i', identityFile, join(dir, 'ours.age')], { maxBuffer: 1 << 24 }).equals(data));
      writeFileSync(join(dir, 'plain'), data);
      execFileSync('age', ['-r', recipient, '-o', join(dir, 'cli.age'), join(dir, 'plain')]);
      assert.ok((await decrypt(parseIdentities(identity), readFileSync(join(dir, 'cli.age')))).equals(data));
    });
  }

  it('several recipients: each identity decrypts', async () => {
    const other = generateIdentity();
    const data = randomBytes(100_000);
    const sealed = await encrypt([parseRecipient(recipient), parseRecipient(other.recipient)], data);
    assert.ok((await decrypt(parseIdentities(other.identity), sealed)).equals(data));
    assert.ok((await decrypt(parseIdentities(identity), sealed)).equals(data));
  });

  it('scrypt passphrase: ours → age -d and age -p → ours', async () => {
    const data = randomBytes(70_000);
    writeFileSync(join(dir, 'pass.age'), await encrypt([{ kind: 'scrypt', passphrase: 'correct horse battery' }], data));
    ageWithPassphrase(['-d', '-o', join(dir, 'pass.out'), join(dir, 'pass.age')], 'correct horse battery', false);
    assert.ok(readFileSync(join(dir, 'pass.out')).equals(data));
    writeFileSync(join(dir, 'plain2'), data);
    ageWithPassphrase(['-p', '-o', join(dir, 'cli-pass.age'), join(dir, 'plain2')], 'staple', true);
    assert.ok((await decrypt([{ kind: 'scrypt', passphrase: 'staple' }], readFileSync(join(dir, 'cli-pass.age')))).equals(data));
  });

  it('refuses a wrong identity and a wrong passphrase before writing any plaintext', async () => {
    const data = randomBytes(200_000);
    const sealed = await encrypt([parseRecipient(recipient)], data);
    await assert.rejects(decrypt(parseIdentities(generateIdentity().identity), sealed), /no identity matches/);
    const withPass = await encrypt([{ kind: 'scrypt', passphrase: 'right' }], data);
    await assert.rejects(decrypt([{ kind: 'scrypt', passphrase: 'wrong' }], withPass), /no identity matches/);
  });

  it('refuses a scrypt work factor above 2^20 at once, before spending the memory', async () => {
    const sealed = await encrypt([{ kind: 'scrypt', passphrase: 'right' }], randomBytes(1000));
    const headerEnd = sealed.indexOf('\n---');
    for (const logN of [21, 22, 40]) {
      const header = sealed.subarray(0, headerEnd).toString('latin1').replace(/^(-> scrypt \S+) 18$/m, `$1 ${logN}`);
      assert.ok(header.includes(` ${logN}`), header);
      const started = Date.now();
      await assert.rejects(decrypt([{ kind: 'scrypt', passphrase: 'right' }], Buffer.concat([Buffer.from(header, 'latin1'), sealed.subarray(headerEnd)])), new RegExp(`work factor 2\\^${logN} refused: at most 2\\^20`));
      assert.ok(Date.now() - started < 1000, 'no scrypt ran');
    }
  });

  it('detects a flipped byte anywhere, truncation at any point, and appended data', async () => {
    const data = randomBytes(200_000);
    const sealed = await encrypt([parseRecipient(recipient)], data);
    const ids = parseIdentities(identity);
    for (const position of [30, 120, sealed.length / 2, sealed.length - 1].map(Math.floor)) {
      const bad = Buffer.from(sealed);
      bad[position] ^= 0x01;
      await assert.rejects(decrypt(ids, bad), Error, `flip at ${position}`);
    }
    for (const cut of [10, 200, 65_536 + 200, sealed.length - 17, sealed.length - 1]) {
      await assert.rejects(decrypt(ids, sealed.subarray(0, cut)), Error, `cut at ${cut}`);
    }
    // a cut exactly at a chunk boundary leaves a valid-looking non-final chunk last
    const header = sealed.indexOf('\n', sealed.indexOf('\n---') + 1) + 1 + 16;
    await assert.rejects(decrypt(ids, sealed.subarray(0, header + 65_536 + 16)), /last chunk/);
    await assert.rejects(decrypt(ids, Buffer.concat([sealed, Buffer.from('x')])));
    assert.throws(() => parseRecipient('age1notarecipient'), /bech32|recipient/);
  });
});
