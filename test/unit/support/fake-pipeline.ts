import { Mock, mock } from 'node:test';
import { Readable, Transform } from 'node:stream';
import { BackupFormat, Compression } from '../../../src/pipeline/backup-format';
import { BackupPipeline, PipelineStage } from '../../../src/pipeline/backup-pipeline.service';

/**
 * A BackupPipeline stand-in: by default new backups are unencrypted and there are no stages
 * (pg_dump's bytes go to the file unchanged), as before compression and encryption moved into
 * the stream. Each method is a mock.fn so a test can hand out its own stages.
 */
export function fakePipeline() {
  const fake = {
    formatFor: mock.fn((compression: Compression): BackupFormat => ({ compression, encrypted: false })),
    describeEncryption: mock.fn((_format: BackupFormat): ReturnType<BackupPipeline['describeEncryption']> => undefined),
    encoders: mock.fn((_format: BackupFormat, _startProducer?: () => Readable): PipelineStage[] => []),
    decoders: mock.fn((_format: BackupFormat, _options?: { handOverOutput?: boolean }): PipelineStage[] => []),
    decodeFileForProcess: mock.fn((_fileFd: number): ReturnType<BackupPipeline['decodeFileForProcess']> => {
      throw new Error('no local file decoding in this test');
    }),
    // the real joining logic, over the fake stages
    encodeOutputOf: (...args: Parameters<BackupPipeline['encodeOutputOf']>) => BackupPipeline.prototype.encodeOutputOf.apply(fake, args),
    decodeForProcess: (...args: Parameters<BackupPipeline['decodeForProcess']>) => BackupPipeline.prototype.decodeForProcess.apply(fake, args),
    asPipeline: () => fake as unknown as BackupPipeline,
  };
  return fake;
}

export type FakePipeline = ReturnType<typeof fakePipeline>;

/** A stage the test controls: a Transform applying `transform`, and a completion it settles. */
export interface FakeStage extends PipelineStage {
  readonly stream: Transform;
  /** Killing a stage that has not settled rejects its completion (as SIGKILL would) and destroys its stream. */
  readonly kill: Mock<() => void>;
  /** The bytes the stage was given, in order. */
  readonly received: Buffer[];
  /** Settles the completion: resolves, or rejects with `error` (a child process exiting non-zero). */
  settle(error?: Error): void;
}

export interface FakeStageOptions {
  /** What the stage makes of each chunk (identity by default). */
  transform?: (chunk: Buffer) => Buffer;
  /** The stream fails on its first chunk with this error (an in-process stage failing, e.g. decryption). */
  streamError?: Error;
  /** Completion resolved at once, as for an in-process stage (default), or left for the test to settle. */
  completion?: 'resolved' | 'pending';
}

export function fakeStage(name: PipelineStage['name'], options: FakeStageOptions = {}): FakeStage {
  const received: Buffer[] = [];
  const stream = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      if (options.streamError) return callback(options.streamError);
      received.push(Buffer.from(chunk));
      callback(null, options.transform ? options.transform(chunk) : chunk);
    },
  });
  let settled = false;
  let resolve!: () => void;
  let reject!: (error: Error) => void;
  const completion = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  completion.catch(() => undefined);
  const settle = (error?: Error) => {
    if (settled) return;
    settled = true;
    if (error) reject(error);
    else resolve();
  };
  if ((options.completion ?? 'resolved') === 'resolved') settle();
  const kill = mock.fn(() => {
    settle(new Error(`${name} stage was killed`));
    stream.destroy();
  });
  return { name, stream, completion, kill, received, settle };
}
