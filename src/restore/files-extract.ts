import { constants } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { lstat, mkdir, open, rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, isAbsolute, join, relative, sep } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { extract } from 'tar-stream';

export interface FilesRestoreResult {
  restored: number;
  /** Entries not written: links, devices, names that would leave the target, and paths outside the allowed ones. */
  skipped: string[];
}

/** The entry's path inside `root`, or null when its name is absolute or climbs out with `..`. */
export function entryTarget(root: string, name: string): string | null {
  if (!name || name.includes('\0') || isAbsolute(name) || /^[a-zA-Z]:/.test(name)) return null;
  const parts = name.split(/[\\/]+/).filter((part) => part && part !== '.');
  if (!parts.length || parts.includes('..')) return null;
  return join(root, ...parts);
}

/** `path` is `base` or lies under it (both absolute and normalized). */
export function isWithin(base: string, path: string): boolean {
  const rel = relative(base, path);
  return rel === '' || (!rel.startsWith('..') && !isAbsolute(rel) && rel.split(sep)[0] !== '..');
}

/**
 * Makes sure `dir` is a real directory, creating it if missing, never through a symlink: every
 * component from `anchor` (trusted, followed) down to `dir` is checked with lstat and made one
 * at a time, so a directory swapped for a symlink by whoever can write under the anchor stops
 * the restore instead of sending files elsewhere.
 */
async function ensureDirectory(anchor: string, dir: string): Promise<void> {
  if (!(await stat(anchor).catch(() => null))?.isDirectory()) await mkdir(anchor, { recursive: true });
  let current = anchor;
  for (const part of relative(anchor, dir).split(sep).filter(Boolean)) {
    current = join(current, part);
    let info = await lstat(current).catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') return null;
      throw error;
    });
    if (!info) {
      await mkdir(current).catch((error: NodeJS.ErrnoException) => {
        if (error.code !== 'EEXIST') throw error;
      });
      info = await lstat(current);
    }
    if (info.isSymbolicLink()) throw new Error(`${current} is a symbolic link: refusing to restore files through it`);
    if (!info.isDirectory()) throw new Error(`${current} is not a directory`);
  }
}

/**
 * Where a files restore may write: `root` is what entry names are joined to (`/` for in place),
 * and each entry must land on or under one of `allowed` (trusted anchors: the target directory's
 * configured root, or the backup's own include paths).
 */
export interface ExtractPolicy {
  root: string;
  allowed: string[];
}

/**
 * Writes regular files and directories of a tar stream. Nothing lands outside the allowed paths:
 * absolute names and `..` are refused, links are skipped, every directory below an anchor is
 * checked with lstat (a symlink stops the restore), and each file is written with O_NOFOLLOW
 * to a temporary name and renamed over the target (a rename replaces a symlink at the target
 * instead of following it).
 */
export async function extractFiles(source: Readable, policy: ExtractPolicy): Promise<FilesRestoreResult> {
  const result: FilesRestoreResult = { restored: 0, skipped: [] };
  const entries = extract();
  source.on('error', (error) => entries.destroy(error));
  source.pipe(entries);
  for await (const entry of entries) {
    const { name, type, mode } = entry.header;
    const target = entryTarget(policy.root, name);
    // the longest anchor holding the target: the walk below it checks every component
    const anchor = target && policy.allowed.filter((a) => isWithin(a, target)).sort((a, b) => b.length - a.length)[0];
    if (!target || !anchor || (type !== 'file' && type !== 'directory')) {
      result.skipped.push(name);
      entry.resume();
      continue;
    }
    if (type === 'directory') {
      await ensureDirectory(anchor, target);
      entry.resume();
      continue;
    }
    // a file named by the anchor itself (an included single file) sits in the anchor's trusted parent
    const parent = dirname(target);
    if (target !== anchor) await ensureDirectory(anchor, parent);
    const temporary = join(parent, `.${basename(target)}.${randomBytes(6).toString('hex')}.restoring`);
    try {
      const handle = await open(temporary, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, (mode ?? 0o600) & 0o777);
      await pipeline(entry, handle.createWriteStream());
      await rename(temporary, target);
    } catch (error) {
      await rm(temporary, { force: true });
      throw error;
    }
    result.restored++;
  }
  return result;
}
