import { after, before, describe, it, mock } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { finished, pipeline as streamPipeline } from 'node:stream/promises';
import { gunzipSync } from 'node:zlib';
import { AgeIdentity, AgeRecipient, generateIdentity, parseIdentities, parseRecipient } from '../../src/crypto/age';
import { ProcessRepository, SpawnOptions } from '../../src/infra/process/process.repository';
import { StorageRepository } from '../../src/infra/storage/storage.repository';
import { EncryptionOptions, PgBackupOptions } from '../../src/pg-backup.options';
import { BackupFormat } from '../../src/pipeline/backup-format';
import { BackupPipeline, EncryptionNotConfiguredException, PipelineStage } from '../../src/pipeline/backup-pipeline.service';
import { CollectingWritable, fakeChild, within } from './support/fake-process';

/** A BackupPipeline whose ProcessRepository refuses to spawn: only in-process stages (gzip, age) may be built. */
function backupPipeline(options: Partial<PgBackupOptions> = {}) {
  const spawn = mock.fn((command: string, _args: string[], _options: SpawnOptions) => {
    throw new Error(`unexpected child process: ${command}`);
  });
  const pipeline = new BackupPipeline(options as PgBackupOptions, { spawn } as unknown as ProcessRepository);
  return { pipeline, spawn };
}

function keyPair(): { identity: AgeIdentity; recipient: AgeRecipient; recipientText: string } {
  const generated = generateIdentity();
  return { identity: parseIdentities(generated.identity)[0], recipient: parseRecipient(generated.recipient), recipientText: generated.recipient };
}

function encryptionFor(...pairs: ReturnType<typeof keyPair>[]): EncryptionOptions {
  return { recipients: pairs.map((p) => p.recipient), identities: pairs.map((p) => p.identity) };
}

/** Streams `input` through the stages and resolves with what comes out, once every stage completed. */
async function through(stages: PipelineStage[], input: Buffer[]): Promise<Buffer> {
  const out = new CollectingWritable();
  await within(
    Promise.all([streamPipeline([Readable.from(input), ...stages.map((s) => s.stream), out]), ...stages.map((s) => s.completion)]),
    5000,
    'the stages to finish',
  );
  return out.bytes;
}

/** Something like a dump: compressible, in uneven chunks, crossing age's 64 KiB chunk boundaries. */
function dumpLike(bytes: number): Buffer[] {
  const text = Buffer.from('COPY public.orders (id, customer, total) FROM stdin;\n'.repeat(Math.ceil(bytes / 52))).subarray(0, bytes);
  const chunks: Buffer[] = [];
  for (let offset = 0, size = 1000; offset < text.length; offset += size, size = (size * 7) % 40_000 + 1) {
    chunks.push(text.subarray(offset, offset + size));
  }
  return chunks;
}

const names = (stages: PipelineStage[]) => stages.map((s) => s.name);

describe('BackupPipeline.encoders / decoders', { timeout: 20_000 }, () => {
  it('gives back the input after gzip encoders then decoders, in process', async () => {
    const { pipeline, spawn } = backupPipeline();
    const format: BackupFormat = { compression: 'gzip', encrypted: false };
    const input = dumpLike(300_000);

    const encoders = pipeline.encoders(format);
    const encoded = await through(encoders, input);
    const decoders = pipeline.decoders(format);
    const decoded = await through(decoders, [encoded]);

    assert.deepEqual(names(encoders), ['compress']);
    assert.deepEqual(names(decoders), ['decompress']);
    assert.deepEqual(encoded.subarray(0, 2), Buffer.from([0x1f, 0x8b]), 'a gzip stream, readable by gunzip');
    assert.deepEqual(gunzipSync(encoded), Buffer.concat(input));
    assert.ok(encoded.length < Buffer.concat(input).length / 10, `compressed to ${encoded.length} bytes`);
    assert.deepEqual(decoded, Buffer.concat(input));
    assert.equal(spawn.mock.callCount(), 0, 'gzip needs no child process');
  });

  it('has no stages for an uncompressed, unencrypted format', () => {
    const { pipeline } = backupPipeline({ encryption: encryptionFor(keyPair()) });
    const format: BackupFormat = { compression: 'none', encrypted: false };
    assert.deepEqual(pipeline.encoders(format), []);
    assert.deepEqual(pipeline.decoders(format), []);
  });

  it('round-trips through age encryption to a generated X25519 identity, at every chunk boundary', async () => {
    const pair = keyPair();
    const { pipeline } = backupPipeline({ encryption: encryptionFor(pair) });
    const format: BackupFormat = { compression: 'none', encrypted: true };

    for (const size of [0, 1, 65_535, 65_536, 65_537, 2 * 65_536, 200_000]) {
      const input = size ? [randomBytes(size)] : [];
      const encoders = pipeline.encoders(format);
      const encoded = await through(encoders, input);
      const decoded = await through(pipeline.decoders(format), [encoded]);

      assert.deepEqual(names(encoders), ['encrypt']);
      assert.ok(encoded.subarray(0, 22).equals(Buffer.from('age-encryption.org/v1\n')), 'an age file');
      assert.ok(encoded.includes('-> X25519 '), 'encrypted to the X25519 recipient');
      assert.deepEqual(decoded, Buffer.concat(input), `${size} bytes`);
    }
  });

  it('compresses before it encrypts and decrypts before it decompresses', async () => {
    const pair = keyPair();
    const { pipeline } = backupPipeline({ encryption: encryptionFor(pair) });
    const format = pipeline.formatFor('gzip');
    const input = dumpLike(250_000);

    const encoders = pipeline.encoders(format);
    const encoded = await through(encoders, input);
    const decoders = pipeline.decoders(format);
    const decoded = await through(decoders, [encoded]);

    assert.deepEqual(names(encoders), ['compress', 'encrypt']);
    assert.deepEqual(names(decoders), ['decrypt', 'decompress']);
    assert.ok(encoded.length < Buffer.concat(input).length / 10, 'compressed, so compression ran before encryption');
    assert.ok(!encoded.includes('COPY public.orders'), 'no plaintext in the file');
    assert.deepEqual(decoded, Buffer.concat(input));
  });

  it('decrypts with any one of several identities a backup encrypted to several recipients', async () => {
    const first = keyPair();
    const second = keyPair();
    const writer = backupPipeline({ encryption: encryptionFor(first, second) }).pipeline;
    const format: BackupFormat = { compression: 'none', encrypted: true };
    const input = [Buffer.from('PGDMP two readers')];
    const encoded = await through(writer.encoders(format), input);

    for (const pair of [first, second]) {
      const reader = backupPipeline({ encryption: { recipients: [], identities: [pair.identity] } }).pipeline;
      assert.deepEqual(await through(reader.decoders(format), [encoded]), Buffer.concat(input));
    }
  });

  it('fails the decrypt stage with a wrong identity, and on altered ciphertext', async () => {
    const { pipeline } = backupPipeline({ encryption: encryptionFor(keyPair()) });
    const format: BackupFormat = { compression: 'none', encrypted: true };
    const encoded = await through(pipeline.encoders(format), [randomBytes(100_000)]);

    const stranger = backupPipeline({ encryption: encryptionFor(keyPair()) }).pipeline;
    await assert.rejects(through(stranger.decoders(format), [encoded]), /no identity matches this file/);

    const altered = Buffer.from(encoded);
    altered[altered.length - 70_000] ^= 1; // inside the first payload chunk
    await assert.rejects(through(pipeline.decoders(format), [altered]), /chunk 0 does not authenticate/);

    await assert.rejects(through(pipeline.decoders(format), [encoded.subarray(0, encoded.length - 100)]), /last chunk does not authenticate/);
  });

  it('refuses to build decoders for an encrypted format when no identity is configured', () => {
    const encrypted: BackupFormat = { compression: 'zstd', encrypted: true };
    const withoutEncryption = backupPipeline().pipeline;
    const recipientsOnly = backupPipeline({ encryption: { recipients: [keyPair().recipient], identities: [] } }).pipeline;

    for (const pipeline of [withoutEncryption, recipientsOnly]) {
      assert.throws(
        () => pipeline.decoders(encrypted),
        (error: unknown) => {
          assert.ok(error instanceof EncryptionNotConfiguredException);
          assert.match(error.message, /this backup is encrypted and no identity is configured/);
          assert.match(error.message, /BACKUP_AGE_IDENTITY_FILE or BACKUP_ENCRYPTION_PASSPHRASE/, 'says how to configure one');
          return true;
        },
      );
    }
  });

  it('refuses to build encoders for an encrypted format when no recipient is configured', () => {
    const { pipeline } = backupPipeline({ encryption: { recipients: [], identities: [keyPair().identity] } });
    assert.throws(() => pipeline.encoders({ compression: 'gzip', encrypted: true }), EncryptionNotConfiguredException);
  });

  it('runs zstd as a child process: stdin in, stdout out, its exit as completion, at the configured level', async () => {
    const children: ReturnType<typeof fakeChild>[] = [];
    const spawn = mock.fn((_command: string, _args: string[], _options: SpawnOptions) => {
      const child = fakeChild({ name: 'zstd', stdin: new PassThrough() });
      children.push(child);
      return child;
    });
    const pipeline = new BackupPipeline({ compressionLevel: 19 } as PgBackupOptions, { spawn } as unknown as ProcessRepository);

    const [compress] = pipeline.encoders({ compression: 'zstd', encrypted: false });
    const [decompress] = pipeline.decoders({ compression: 'zstd', encrypted: false });

    assert.deepEqual(
      spawn.mock.calls.map((c) => [c.arguments[0], c.arguments[1], c.arguments[2].stdin]),
      [
        ['zstd', ['-q', '-c', '-19', '-T0'], true],
        ['zstd', ['-q', '-d', '-c'], true],
      ],
    );
    // the stage's stream writes the child's stdin and reads its stdout
    const child = children[0];
    const fedToChild = new CollectingWritable();
    child.stdin!.pipe(fedToChild);
    const out = new CollectingWritable();
    const done = streamPipeline([Readable.from([Buffer.from('PGDMP')]), compress.stream, out]);
    await within(new Promise((resolve) => fedToChild.on('finish', resolve)), 2000, 'the dump to reach zstd');
    (child.stdout as PassThrough).end(Buffer.from('(zstd frame)'));
    child.exit(0);
    await within(done);
    await within(compress.completion);
    assert.deepEqual(fedToChild.bytes, Buffer.from('PGDMP'));
    assert.deepEqual(out.bytes, Buffer.from('(zstd frame)'));

    decompress.kill();
    assert.equal(children[1].kill.mock.callCount(), 1, 'kill() kills the child');
    await assert.rejects(decompress.completion, /zstd was killed by SIGKILL/);
  });

  it('uses zstd level 1 unless configured (faster and, on the bench data, smaller than 3)', () => {
    const spawn = mock.fn((_command: string, _args: string[], _options: SpawnOptions) => fakeChild({ name: 'zstd', stdin: new PassThrough() }));
    const pipeline = new BackupPipeline({} as PgBackupOptions, { spawn } as unknown as ProcessRepository);
    pipeline.encoders({ compression: 'zstd', encrypted: false });
    assert.deepEqual(spawn.mock.calls[0].arguments[1], ['-q', '-c', '-1', '-T0']);
  });
});

describe('BackupPipeline.formatFor', () => {
  it('marks new backups encrypted only when recipients are configured', () => {
    const pair = keyPair();
    assert.deepEqual(backupPipeline().pipeline.formatFor('zstd'), { compression: 'zstd', encrypted: false });
    assert.deepEqual(backupPipeline({ encryption: { recipients: [], identities: [pair.identity] } }).pipeline.formatFor('gzip'), {
      compression: 'gzip',
      encrypted: false,
    });
    assert.deepEqual(backupPipeline({ encryption: encryptionFor(pair) }).pipeline.formatFor('none'), { compression: 'none', encrypted: true });
    assert.deepEqual(backupPipeline({ encryption: encryptionFor(pair) }).pipeline.formatFor('zstd'), { compression: 'zstd', encrypted: true });
  });
});

describe('BackupPipeline.describeEncryption', () => {
  it('lists the age1… recipients of an encrypted format', () => {
    const first = keyPair();
    const second = keyPair();
    const { pipeline } = backupPipeline({ encryption: encryptionFor(first, second) });

    const described = pipeline.describeEncryption({ compression: 'zstd', encrypted: true });

    assert.deepEqual(described, { recipients: [first.recipientText, second.recipientText] });
    for (const recipient of (described as { recipients: string[] }).recipients) assert.match(recipient, /^age1[02-9ac-hj-np-z]{58}$/);
    assert.ok(!JSON.stringify(described).toLowerCase().includes('age-secret-key'), 'never a secret');
  });

  it('says only "passphrase" for scrypt encryption, never the passphrase', () => {
    const passphrase = 'correct horse battery staple';
    const { pipeline } = backupPipeline({
      encryption: { recipients: [{ kind: 'scrypt', passphrase }], identities: [{ kind: 'scrypt', passphrase }] },
    });

    const described = pipeline.describeEncryption({ compression: 'gzip', encrypted: true });

    assert.deepEqual(described, { passphrase: true });
    assert.ok(!JSON.stringify(described).includes(passphrase));
  });

  it('is undefined for an unencrypted format, even when encryption is configured', () => {
    const { pipeline } = backupPipeline({ encryption: encryptionFor(keyPair()) });
    assert.equal(pipeline.describeEncryption({ compression: 'zstd', encrypted: false }), undefined);
  });
});

describe('BackupPipeline with real child processes (fd-to-fd)', { timeout: 20_000 }, () => {
  const processes = new ProcessRepository();
  const storage = new StorageRepository();
  const pair = keyPair();
  const pipeline = new BackupPipeline({ encryption: encryptionFor(pair) } as PgBackupOptions, processes);
  const env = { PATH: process.env.PATH };
  // 8 MB of text from a child: what pg_dump would write
  const producerScript = 'i=0; while [ $i -lt 2000 ]; do printf "%04096d\\n" $i; i=$((i+1)); done';
  const expected = 2000 * 4097;
  let dir: string;
  before(() => (dir = mkdtempSync(join(tmpdir(), 'pgb-pipeline-'))));
  after(() => rmSync(dir, { recursive: true, force: true }));

  /** Encodes the producer's output into a new file; returns what Node had to carry and the file's bytes. */
  async function encodeToFile(format: BackupFormat) {
    const partial = await storage.createPartial(join(dir, `${randomBytes(4).toString('hex')}.partial`));
    let producer: ReturnType<ProcessRepository['spawn']> | undefined;
    const encoded = pipeline.encodeOutputOf(format, () => {
      producer = processes.spawn('sh', ['-c', producerScript], { env });
      return producer.stdout!;
    }, partial.fd);
    assert.ok(producer!.stdout!.destroyed, "Node's end of the producer's stdout is closed: zstd alone reads it");
    const written = encoded.streams.length ? streamPipeline([...encoded.streams, partial.stream]) : finished(partial.stream.end());
    await within(Promise.all([written, producer!.completion, ...encoded.stages.map((s) => s.completion)]), 10_000, 'the encoding');
    return { nodeStreams: encoded.streams.length, file: readFileSync(partial.path) };
  }

  /** Decodes `file` into `wc -c` the way a restore feeds pg_restore; resolves with the count wc read. */
  async function decodedByteCount(file: Buffer, format: BackupFormat): Promise<number> {
    const decoding = pipeline.decodeForProcess(Readable.from([file]), format);
    assert.ok(decoding.output, 'zstd -d hands its output on');
    const consumer = processes.spawn('wc', ['-c'], { env, stdin: decoding.output });
    const counted = new CollectingWritable();
    await within(
      Promise.all([streamPipeline(decoding.streams), streamPipeline(consumer.stdout!, counted), consumer.completion, ...decoding.stages.map((s) => s.completion)]),
      10_000,
      'the decoding',
    );
    return Number(counted.bytes.toString().trim());
  }

  it('zstd reads the producer and writes the file itself: Node carries no byte, and every byte decodes', async () => {
    const format: BackupFormat = { compression: 'zstd', encrypted: false };
    const { nodeStreams, file } = await encodeToFile(format);
    assert.equal(nodeStreams, 0);
    assert.ok(file.length > 0 && file.length < expected / 20, `compressed: ${file.length} bytes for ${expected}`);
    assert.equal(await decodedByteCount(file, format), expected);
  });

  it('encrypted: Node carries only the compressed bytes through age, and every byte decodes', async () => {
    const format: BackupFormat = { compression: 'zstd', encrypted: true };
    const { nodeStreams, file } = await encodeToFile(format);
    assert.equal(nodeStreams, 2, "zstd's output, then the encryption");
    assert.ok(file.subarray(0, 21).toString() === 'age-encryption.org/v1', 'an age file');
    assert.equal(await decodedByteCount(file, format), expected);
  });

  it('fails the producer when zstd dies: no reader is left on its stdout', async () => {
    const partial = await storage.createPartial(join(dir, 'killed.partial'));
    let producer: ReturnType<ProcessRepository['spawn']> | undefined;
    const encoded = pipeline.encodeOutputOf({ compression: 'zstd', encrypted: false }, () => {
      producer = processes.spawn('sh', ['-c', `${producerScript}; ${producerScript}`], { env });
      return producer.stdout!;
    }, partial.fd);
    encoded.stages[0].kill();
    await assert.rejects(encoded.stages[0].completion, /SIGKILL/);
    await assert.rejects(within(producer!.completion, 5000, 'the producer to stop'), /exited with code|SIGPIPE/);
    await partial.discard();
  });
});
