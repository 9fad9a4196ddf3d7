import { Inject, Injectable } from '@nestjs/common';
import { Duplex, Readable, Writable } from 'node:stream';
import { createGunzip, createGzip } from 'node:zlib';
import { AgeDecryptStream, AgeEncryptStream, recipientString } from '../crypto/age';
import { childStdinSink } from '../infra/process/child-stdin-sink';
import { ChildProcessHandle, ProcessRepository, SpawnOptions } from '../infra/process/process.repository';
import { PG_BACKUP_OPTIONS, PgBackupOptions } from '../pg-backup.options';
import { BackupFormat, Compression, DEFAULT_LEVELS } from './backup-format';

/** One transform of the backup stream, with the way to know it succeeded and to stop it. */
export interface PipelineStage {
  readonly name: 'compress' | 'encrypt' | 'decrypt' | 'decompress';
  readonly stream: Duplex | Readable;
  /** A child stage whose output is handed to the next process: Node writes `input`, and `output` (= `stream`) is not Node's to read. */
  readonly input?: Writable;
  readonly output?: Readable;
  /** A child stage that was given the producer's stdout as its own stdin (fd-to-fd). */
  readonly readsProducer?: true;
  /** Settles when a child process behind the stage exits; resolves at once for in-process stages. */
  readonly completion: Promise<void>;
  kill(): void;
}

/** A stage as far as its process goes: whether it succeeded, and how to stop it. */
export type StageProcess = Pick<PipelineStage, 'name' | 'completion' | 'kill'>;

export class EncryptionNotConfiguredException extends Error {}

/**
 * Builds the stages between pg_dump and the file (compress → encrypt) and back
 * (decrypt → decompress). zstd runs as a child process (multi-threaded, and the file stays
 * readable by `zstd -d`); gzip uses node:zlib; encryption is the age format.
 */
@Injectable()
export class BackupPipeline {
  constructor(
    @Inject(PG_BACKUP_OPTIONS) private readonly options: PgBackupOptions,
    private readonly processes: ProcessRepository,
  ) {}

  /** The format new backups are written in, given the configured compression. */
  formatFor(compression: Compression): BackupFormat {
    const encryption = this.options.encryption;
    return { compression, encrypted: Boolean(encryption?.recipients.length) };
  }

  /** The public part of the encryption, recorded with each backup. */
  describeEncryption(format: BackupFormat): { recipients: string[] } | { passphrase: true } | undefined {
    if (!format.encrypted) return undefined;
    const recipients = this.options.encryption?.recipients ?? [];
    if (recipients.some((r) => r.kind === 'scrypt')) return { passphrase: true };
    return { recipients: recipients.flatMap((r) => (r.kind === 'x25519' ? [recipientString(r.publicKey)] : [])) };
  }

  /**
   * Encodes a child's output (pg_dump's) into the open file `fileFd`. zstd takes that stdout as
   * its own stdin, fd-to-fd, and when nothing follows it (no encryption) writes the file itself:
   * Node then carries no byte at all. `streams` is what Node must still pipe; the caller ends
   * them in the file's stream (or, when empty, ends that stream unwritten).
   */
  encodeOutputOf(format: BackupFormat, startProducer: () => Readable, fileFd: number): { streams: Array<Duplex | Readable>; stages: StageProcess[] } {
    let producer: Readable | undefined;
    const start = () => (producer ??= startProducer());
    if (format.compression === 'zstd' && !format.encrypted) {
      const zstd = this.zstdCompressor({ stdin: start(), stdout: fileFd });
      return { streams: [], stages: [{ name: 'compress', completion: zstd.completion, kill: zstd.kill }] };
    }
    const stages = this.encoders(format, start);
    const handedOver = stages[0]?.readsProducer === true;
    return { streams: [...(handedOver ? [] : [start()]), ...stages.map((stage) => stage.stream)], stages };
  }

  /**
   * Decoding for a child process that reads the whole dump (pg_restore): when zstd is the last
   * stage its stdout is `output`, to be handed to that child fd-to-fd, and Node pipes `streams`
   * only as far as zstd's stdin. Otherwise `output` is null and `streams` end with the decoded bytes.
   */
  decodeForProcess(source: Readable, format: BackupFormat): { streams: Array<Readable | Writable>; output: Readable | null; stages: StageProcess[] } {
    const stages = this.decoders(format, { handOverOutput: true });
    const last = stages.at(-1);
    if (last?.output) {
      // zstd's exit status, not a broken pipe into it, says whether it read everything it needed
      return { streams: [source, ...stages.slice(0, -1).map((s) => s.stream), childStdinSink(last.input!)], output: last.output, stages };
    }
    return { streams: [source, ...stages.map((s) => s.stream)], output: null, stages };
  }

  /** An unencrypted zstd file read by zstd itself from the open descriptor `fileFd`: Node carries no byte. */
  decodeFileForProcess(fileFd: number): { output: Readable; stages: StageProcess[] } {
    const child = this.zstdDecompressor({ stdin: fileFd });
    return { output: child.stdout!, stages: [{ name: 'decompress', completion: child.completion, kill: child.kill }] };
  }

  /**
   * `startProducer`, when given, is called once the stages are known to be buildable; if zstd is
   * the first stage it reads the producer's stdout directly.
   */
  encoders(format: BackupFormat, startProducer?: () => Readable): PipelineStage[] {
    const recipients = this.options.encryption?.recipients ?? [];
    if (format.encrypted && !recipients.length) throw new EncryptionNotConfiguredException('encryption is not configured');
    const stages: PipelineStage[] = [];
    if (format.compression !== 'none') stages.push(this.compressor(format.compression, startProducer));
    if (format.encrypted) stages.push(inProcess('encrypt', new AgeEncryptStream(recipients)));
    return stages;
  }

  decoders(format: BackupFormat, { handOverOutput = false } = {}): PipelineStage[] {
    const stages: PipelineStage[] = [];
    if (format.encrypted) {
      const identities = this.options.encryption?.identities ?? [];
      if (!identities.length) {
        throw new EncryptionNotConfiguredException(
          'this backup is encrypted and no identity is configured (BACKUP_AGE_IDENTITY_FILE or BACKUP_ENCRYPTION_PASSPHRASE)',
        );
      }
      stages.push(inProcess('decrypt', new AgeDecryptStream(identities)));
    }
    if (format.compression !== 'none') stages.push(this.decompressor(format.compression, handOverOutput));
    return stages;
  }

  /** With a producer, zstd reads the producer's stdout directly (fd-to-fd) and its stage's stream is its stdout alone. */
  private compressor(compression: Exclude<Compression, 'none'>, startProducer?: () => Readable): PipelineStage {
    const level = this.options.compressionLevel ?? DEFAULT_LEVELS[compression];
    if (compression === 'gzip') return inProcess('compress', createGzip({ level: Math.min(level, 9) }));
    const child = this.zstdCompressor({ stdin: startProducer?.() ?? true });
    const stage = { name: 'compress' as const, completion: child.completion, kill: child.kill };
    if (startProducer) return { ...stage, stream: child.stdout!, readsProducer: true };
    return { ...stage, stream: Duplex.from({ writable: child.stdin!, readable: child.stdout! }) };
  }

  private zstdCompressor(io: Pick<SpawnOptions, 'stdin' | 'stdout'>): ChildProcessHandle {
    const level = this.options.compressionLevel ?? DEFAULT_LEVELS.zstd;
    return this.processes.spawn('zstd', ['-q', '-c', `-${level}`, '-T0'], { env: { PATH: process.env.PATH }, ...io });
  }

  private zstdDecompressor(io: Pick<SpawnOptions, 'stdin'>): ChildProcessHandle {
    return this.processes.spawn('zstd', ['-q', '-d', '-c'], { env: { PATH: process.env.PATH }, ...io });
  }

  private decompressor(compression: Exclude<Compression, 'none'>, handOverOutput: boolean): PipelineStage {
    if (compression === 'gzip') return inProcess('decompress', createGunzip());
    const child = this.zstdDecompressor({ stdin: true });
    const stage = { name: 'decompress' as const, completion: child.completion, kill: child.kill };
    if (handOverOutput) return { ...stage, stream: child.stdout!, input: child.stdin!, output: child.stdout! };
    return { ...stage, stream: Duplex.from({ writable: child.stdin!, readable: child.stdout! }) };
  }
}

function inProcess(name: PipelineStage['name'], stream: Duplex): PipelineStage {
  return { name, stream, completion: Promise.resolve(), kill: () => stream.destroy() };
}
