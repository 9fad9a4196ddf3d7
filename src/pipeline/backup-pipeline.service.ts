import { Inject, Injectable } from '@nestjs/common';
import { Duplex } from 'node:stream';
import { createGunzip, createGzip } from 'node:zlib';
import { AgeDecryptStream, AgeEncryptStream, recipientString } from '../crypto/age';
import { ProcessRepository } from '../infra/process/process.repository';
import { PG_BACKUP_OPTIONS, PgBackupOptions } from '../pg-backup.options';
import { BackupFormat, Compression, DEFAULT_LEVELS } from './backup-format';

/** One transform of the backup stream, with the way to know it succeeded and to stop it. */
export interface PipelineStage {
  readonly name: 'compress' | 'encrypt' | 'decrypt' | 'decompress';
  readonly stream: Duplex;
  /** Settles when a child process behind the stage exits; resolves at once for in-process stages. */
  readonly completion: Promise<void>;
  kill(): void;
}

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

  encoders(format: BackupFormat): PipelineStage[] {
    const stages: PipelineStage[] = [];
    if (format.compression !== 'none') stages.push(this.compressor(format.compression));
    if (format.encrypted) {
      const recipients = this.options.encryption?.recipients ?? [];
      if (!recipients.length) throw new EncryptionNotConfiguredException('encryption is not configured');
      stages.push(inProcess('encrypt', new AgeEncryptStream(recipients)));
    }
    return stages;
  }

  decoders(format: BackupFormat): PipelineStage[] {
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
    if (format.compression !== 'none') stages.push(this.decompressor(format.compression));
    return stages;
  }

  private compressor(compression: Exclude<Compression, 'none'>): PipelineStage {
    const level = this.options.compressionLevel ?? DEFAULT_LEVELS[compression];
    if (compression === 'gzip') return inProcess('compress', createGzip({ level: Math.min(level, 9) }));
    return this.childStage('compress', ['-q', '-c', `-${level}`, '-T0']);
  }

  private decompressor(compression: Exclude<Compression, 'none'>): PipelineStage {
    if (compression === 'gzip') return inProcess('decompress', createGunzip());
    return this.childStage('decompress', ['-q', '-d', '-c']);
  }

  private childStage(name: PipelineStage['name'], args: string[]): PipelineStage {
    const child = this.processes.spawn('zstd', args, { env: { PATH: process.env.PATH }, stdin: true });
    return { name, stream: Duplex.from({ writable: child.stdin!, readable: child.stdout! }), completion: child.completion, kill: child.kill };
  }
}

function inProcess(name: PipelineStage['name'], stream: Duplex): PipelineStage {
  return { name, stream, completion: Promise.resolve(), kill: () => stream.destroy() };
}
