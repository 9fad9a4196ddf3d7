import { randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, realpath, rename, rm } from 'node:fs/promises';
import { basename, dirname, isAbsolute, join, sep } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { extract } from 'tar-stream';

export interface FilesRestoreResult {
  restored: number;
  /** Entries not written: links, devices, and names that would leave the target. */
  skipped: string[];
}

/** The entry's path inside `root`, or null when its name is absolute or climbs out with `..`. */
export function entryTarget(root: string, name: string): string | null {
  if (!name || name.includes('\0') || isAbsolute(name) || /^[a-zA-Z]:/.test(name)) return null;
  const parts = name.split(/[\\/]+/).filter((part) => part && part !== '.');
  if (!parts.length || parts.includes('..')) return null;
  return join(root, ...parts);
}

async function assertInside(realRoot: string, dir: string): Promise<void> {
  const real = await realpath(dir);
  const prefix = realRoot.endsWith(sep) ? realRoot : realRoot + sep; // `/` is its own prefix
  if (real !== realRoot && !real.startsWith(prefix)) throw new Error(`${dir} leads out of ${realRoot} through a symbolic link`);
}

/**
 * Writes regular files and directories of a tar stream under `root`. Nothing lands outside it:
 * absolute names and `..` are refused, links are skipped, a parent directory that is a symlink
 * out of `root` stops the restore, and each file is written to a temporary name and renamed
 * over the target (a rename replaces a symlink at the target instead of following it).
 */
export async function extractFiles(source: Readable, root: string): Promise<FilesRestoreResult> {
  await mkdir(root, { recursive: true });
  const realRoot = await realpath(root);
  const result: FilesRestoreResult = { restored: 0, skipped: [] };
  const entries = extract();
  source.on('error', (error) => entries.destroy(error));
  source.pipe(entries);
  for await (const entry of entries) {
    const { name, type, mode } = entry.header;
    const target = entryTarget(realRoot, name);
    if (!target || (type !== 'file' && type !== 'directory')) {
      result.skipped.push(name);
      entry.resume();
      continue;
    }
    if (type === 'directory') {
      await mkdir(target, { recursive: true });
      await assertInside(realRoot, target);
      entry.resume();
      continue;
    }
    await mkdir(dirname(target), { recursive: true });
    await assertInside(realRoot, dirname(target));
    const temporary = join(dirname(target), `.${basename(target)}.${randomBytes(6).toString('hex')}.restoring`);
    try {
      await pipeline(entry, createWriteStream(temporary, { flags: 'wx', mode: (mode ?? 0o600) & 0o777 }));
      await rename(temporary, target);
    } catch (error) {
      await rm(temporary, { force: true });
      throw error;
    }
    result.restored++;
  }
  return result;
}
