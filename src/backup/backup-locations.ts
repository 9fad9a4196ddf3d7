import { Inject, Injectable } from '@nestjs/common';
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { S3Repository } from '../infra/storage/s3.repository';
import { StorageRepository } from '../infra/storage/storage.repository';
import { PG_BACKUP_OPTIONS, PgBackupOptions } from '../pg-backup.options';

/** Bytes of one copy of a backup, wherever it lives. */
export interface BackupSource {
  /** A path or an s3:// URL, for messages and records. */
  readonly location: string;
  open(): Readable;
}

/** A place that holds backup files and their manifests: the primary directory, the external one, S3. */
export interface BackupLocation {
  readonly kind: 'local' | 'external' | 's3';
  describe(name: string): string;
  size(name: string): Promise<number | null>;
  open(name: string): Readable;
  readText(name: string): Promise<string>;
  writeText(name: string, content: string): Promise<void>;
  remove(name: string): Promise<void>;
  list(): Promise<string[]>;
}

export async function sha256Of(stream: Readable): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of stream) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** Names this module writes: never a path, never hidden. */
function checkedName(name: string): string {
  if (!/^[\w.-]+$/.test(name) || name.startsWith('.')) throw new Error(`invalid backup file name: ${name}`);
  return name;
}

/** Every location of backups, the primary first: reads take the first intact copy. */
@Injectable()
export class BackupLocations {
  private readonly locations: BackupLocation[];

  constructor(
    @Inject(PG_BACKUP_OPTIONS) options: PgBackupOptions,
    private readonly storage: StorageRepository,
    private readonly s3: S3Repository,
  ) {
    this.locations = [this.directory('local', options.backupDir)];
    if (options.externalDir) this.locations.push(this.directory('external', options.externalDir));
    if (s3.enabled) this.locations.push(this.bucket());
  }

  all(): BackupLocation[] {
    return this.locations;
  }

  private directory(kind: 'local' | 'external', dir: string): BackupLocation {
    const path = (name: string) => join(dir, checkedName(name));
    return {
      kind,
      describe: path,
      size: (name) => this.storage.size(path(name)),
      open: (name) => this.storage.openRead(path(name)),
      readText: (name) => readFile(path(name), 'utf8'),
      writeText: (name, content) => this.storage.writeFileAtomically(path(name), content),
      remove: (name) => this.storage.remove(path(name)),
      list: () => this.storage.list(dir),
    };
  }

  private bucket(): BackupLocation {
    const s3 = this.s3;
    return {
      kind: 's3',
      describe: (name) => s3.location(checkedName(name)),
      size: (name) => s3.size(checkedName(name)),
      open: (name) => s3.openRead(checkedName(name)),
      readText: (name) => s3.readText(checkedName(name)),
      writeText: (name, content) => s3.writeText(checkedName(name), content),
      remove: (name) => s3.remove(checkedName(name)),
      list: () => s3.list(),
    };
  }
}
