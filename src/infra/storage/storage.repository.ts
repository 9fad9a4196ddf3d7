import { Injectable } from '@nestjs/common';
import { createHash } from 'node:crypto';
import { createReadStream, ReadStream } from 'node:fs';
import * as fs from 'node:fs/promises';
import { dirname } from 'node:path';
import { Writable } from 'node:stream';

export interface PartialFile {
  readonly path: string;
  readonly stream: Writable;
  /** The open descriptor behind `stream`, for a child process to write the file itself (then end `stream` unwritten). */
  readonly fd: number;
  /** fsyncs the file; call after the stream has finished. */
  commit(): Promise<void>;
  /** Destroys the stream and removes the file; never throws. */
  discard(): Promise<void>;
}

/** Every file-system side effect of backups goes through here. */
@Injectable()
export class StorageRepository {
  async ensurePrivateDir(dir: string): Promise<void> {
    await fs.mkdir(dir, { recursive: true, mode: 0o700 });
    await fs.chmod(dir, 0o700);
  }

  /** Creates `path` exclusively, mode 0600, and resolves once it is open (so failures surface before any work starts). */
  async createPartial(path: string): Promise<PartialFile> {
    const handle = await fs.open(path, 'wx', 0o600);
    const stream = handle.createWriteStream();
    return {
      path,
      stream,
      fd: handle.fd,
      commit: async () => {
        // the stream has closed its descriptor; fsync flushes the file's data through any descriptor
        const handle = await fs.open(path, 'r+');
        try {
          await handle.sync();
        } finally {
          await handle.close();
        }
      },
      discard: async () => {
        stream.destroy();
        await fs.rm(path, { force: true }).catch(() => undefined);
      },
    };
  }

  /** Renames atomically and makes the rename durable by fsyncing the directory. */
  async renameDurably(from: string, to: string): Promise<void> {
    await fs.rename(from, to);
    const dir = await fs.open(dirname(to), 'r');
    try {
      await dir.sync();
    } finally {
      await dir.close();
    }
  }

  /** Writes a small file atomically (temporary name, fsync, rename), mode 0600. */
  async writeFileAtomically(path: string, content: string): Promise<void> {
    const partial = await this.createPartial(`${path}.partial`);
    try {
      await new Promise<void>((resolve, reject) => partial.stream.end(content, (e?: Error | null) => (e ? reject(e) : resolve())));
      await partial.commit();
      await this.renameDurably(partial.path, path);
    } catch (error) {
      await partial.discard();
      throw error;
    }
  }

  async size(path: string): Promise<number | null> {
    try {
      return (await fs.stat(path)).size;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw error;
    }
  }

  async freeBytes(dir: string): Promise<number> {
    const stats = await fs.statfs(dir);
    return stats.bavail * stats.bsize;
  }

  async list(dir: string): Promise<string[]> {
    try {
      return await fs.readdir(dir);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw error;
    }
  }

  async remove(path: string): Promise<void> {
    await fs.rm(path, { force: true });
  }

  /** SHA-256 (hex) and size of the file's bytes, read through one reused buffer (no garbage per chunk). */
  async sha256(path: string): Promise<{ sha256: string; size: number }> {
    const hash = createHash('sha256');
    const buffer = Buffer.allocUnsafe(1 << 20);
    const handle = await fs.open(path, 'r');
    let size = 0;
    try {
      for (;;) {
        const { bytesRead } = await handle.read(buffer, 0, buffer.length, null);
        if (bytesRead === 0) break;
        hash.update(buffer.subarray(0, bytesRead));
        size += bytesRead;
      }
    } finally {
      await handle.close();
    }
    return { sha256: hash.digest('hex'), size };
  }

  openRead(path: string): ReadStream {
    return createReadStream(path);
  }
}
