import { Injectable } from '@nestjs/common';
import type { ZipArchive } from 'archiver';
import { PassThrough, Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import yauzl from 'yauzl';
import { StorageRepository } from './storage.repository';

export interface ZipAddition {
  name: string;
  /** The entry's bytes: a stream factory (large files) or a string (manifests). */
  content: (() => Readable) | string;
}

function openZip(path: string): Promise<yauzl.ZipFile> {
  return new Promise((resolve, reject) =>
    yauzl.open(path, { lazyEntries: true, autoClose: false }, (error, zip) => (error ? reject(error) : resolve(zip))),
  );
}

/** ZIP files of archived backups: entries stored uncompressed (the files are compressed already). */
@Injectable()
export class ZipRepository {
  constructor(private readonly storage: StorageRepository) {}

  /** Entry names and sizes; an empty map when the ZIP does not exist. */
  async entries(path: string): Promise<Map<string, number>> {
    if ((await this.storage.size(path)) === null) return new Map();
    const zip = await openZip(path);
    try {
      return await new Promise((resolve, reject) => {
        const found = new Map<string, number>();
        zip.on('entry', (entry: yauzl.Entry) => {
          found.set(entry.fileName, entry.uncompressedSize);
          zip.readEntry();
        });
        zip.on('end', () => resolve(found));
        zip.on('error', reject);
        zip.readEntry();
      });
    } finally {
      zip.close();
    }
  }

  /** One entry's bytes, streamed straight out of the ZIP (no extraction to disk). */
  openEntry(path: string, name: string): Readable {
    const out = new PassThrough();
    openZip(path)
      .then((zip) => {
        zip.on('entry', (entry: yauzl.Entry) => {
          if (entry.fileName !== name) return zip.readEntry();
          zip.openReadStream(entry, (error, stream) => {
            if (error) return out.destroy(error);
            stream.on('error', (e) => out.destroy(e));
            stream.on('end', () => zip.close());
            stream.pipe(out);
          });
        });
        zip.on('end', () => {
          zip.close();
          out.destroy(new Error(`${name} is not in ${path}`));
        });
        zip.on('error', (error: Error) => out.destroy(error));
        zip.readEntry();
      })
      .catch((error: Error) => out.destroy(error));
    return out;
  }

  /**
   * Writes the ZIP anew (partial → fsync → rename): the entries it had, minus `drop`, plus `add`.
   * A ZIP left with no entries is removed.
   */
  async rewrite(path: string, add: ZipAddition[], drop: Set<string> = new Set()): Promise<void> {
    const kept = [...(await this.entries(path)).keys()].filter((name) => !drop.has(name) && !add.some((a) => a.name === name));
    if (!kept.length && !add.length) {
      await this.storage.remove(path);
      return;
    }
    const partial = await this.storage.createPartial(`${path}.partial`);
    try {
      const archive: ZipArchive = new (await loadArchiver()).ZipArchive({ store: true, forceZip64: true });
      const written = pipeline(archive, partial.stream);
      for (const name of kept) archive.append(this.openEntry(path, name), { name, store: true });
      for (const entry of add) archive.append(typeof entry.content === 'string' ? entry.content : entry.content(), { name: entry.name, store: true });
      await Promise.all([archive.finalize(), written]);
      await partial.commit();
      await this.storage.renameDurably(partial.path, path);
    } catch (error) {
      await partial.discard();
      throw error;
    }
  }
}

/** archiver is loaded on first use: only archiving and BACKUP_INCLUDE_PATHS need it (~14 MB of memory). */
export function loadArchiver(): Promise<typeof import('archiver')> {
  return import('archiver');
}
