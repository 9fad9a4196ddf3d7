import { Inject, Injectable } from '@nestjs/common';
import { createHash } from 'node:crypto';
import { constants } from 'node:fs';
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { S3Repository } from '../infra/storage/s3.repository';
import { StorageRepository } from '../infra/storage/storage.repository';
import { ZipRepository } from '../infra/storage/zip.repository';
import { PG_BACKUP_OPTIONS, PgBackupOptions } from '../pg-backup.options';
import { MAX_MANIFEST_BYTES } from './backup-manifest';

/** Bytes of one copy of a backup, wherever it lives. */
export interface BackupSource {
  /** A path or an s3:// URL, for messages and records. */
  readonly location: string;
  open(): Readable;
  /** The path, for a file on this machine: a child process may read it directly. (A method: never part of an API answer.) */
  localFile?(): string;
}

/** A place that holds backup files and their manifests: the primary directory, the external one, S3. */
export interface BackupLocation {
  readonly kind: 'archive' | 'local' | 'external' | 's3';
  describe(name: string): string;
  size(name: string): Promise<number | null>;
  open(name: string): Readable;
  /** The file's path when it is one on this machine. */
  path?(name: string): string;
  sha256(name: string): Promise<string>;
  readText(name: string): Promise<string>;
  writeText(name: string, content: string): Promise<void>;
  remove(name: string): Promise<void>;
  list(): Promise<string[]>;
}

async function streamToBuffer(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

export async function sha256Of(stream: Readable): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of stream) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/**
 * A manifest from a directory anyone with write access may have filled: a regular file (not a
 * FIFO that would block the read forever, not a symlink) of at most MAX_MANIFEST_BYTES.
 */
async function readManifestFile(path: string): Promise<string> {
  const handle = await open(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  try {
    const info = await handle.stat();
    if (!info.isFile()) throw new Error('not a regular file');
    if (info.size > MAX_MANIFEST_BYTES) throw new Error(`${info.size} bytes, more than ${MAX_MANIFEST_BYTES}`);
    return await handle.readFile('utf8');
  } finally {
    await handle.close();
  }
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
    @Inject(PG_BACKUP_OPTIONS) private readonly options: PgBackupOptions,
    private readonly storage: StorageRepository,
    private readonly s3: S3Repository,
    private readonly zips: ZipRepository,
  ) {
    this.locations = [this.directory('local', options.backupDir)];
    if (options.externalDir) this.locations.push(this.directory('external', options.externalDir));
    if (s3.enabled) this.locations.push(this.bucket());
  }

  /** Where new backups go and where imports look: primary, external directory, S3. */
  all(): BackupLocation[] {
    return this.locations;
  }

  /** Where this backup's copies may be: its archive ZIP first when archived, then all the others. */
  for(backup: { archivePath: string | null }): BackupLocation[] {
    return backup.archivePath ? [this.archive(join(this.options.backupDir, backup.archivePath)), ...this.locations] : this.locations;
  }

  private archive(zipPath: string): BackupLocation {
    const zips = this.zips;
    return {
      kind: 'archive',
      describe: (name) => `${zipPath}:${name}`,
      size: async (name) => (await zips.entries(zipPath)).get(name) ?? null,
      open: (name) => zips.openEntry(zipPath, name),
      sha256: (name) => sha256Of(zips.openEntry(zipPath, name)),
      readText: async (name) => (await streamToBuffer(zips.openEntry(zipPath, name))).toString('utf8'),
      writeText: (name, content) => zips.rewrite(zipPath, [{ name, content }]),
      remove: (name) => zips.rewrite(zipPath, [], new Set([name])),
      list: async () => [],
    };
  }

  private directory(kind: 'local' | 'external', dir: string): BackupLocation {
    const path = (name: string) => join(dir, checkedName(name));
    return {
      kind,
      describe: path,
      size: (name) => this.storage.size(path(name)),
      open: (name) => this.storage.openRead(path(name)),
      path,
      sha256: async (name) => (await this.storage.sha256(path(name))).sha256,
      readText: (name) => readManifestFile(path(name)),
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
      sha256: (name) => sha256Of(s3.openRead(checkedName(name))),
      readText: (name) => s3.readText(checkedName(name)),
      writeText: (name, content) => s3.writeText(checkedName(name), content),
      remove: (name) => s3.remove(checkedName(name)),
      list: () => s3.list(),
    };
  }
}
