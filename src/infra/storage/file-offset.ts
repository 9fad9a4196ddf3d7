import { readFile } from 'node:fs/promises';

/**
 * The offset of an open file descriptor of this process, which a child given that descriptor
 * shares: how far the child has read. Linux (`/proc/self/fdinfo`); null elsewhere or once closed.
 */
export async function fileOffset(fd: number): Promise<number | null> {
  try {
    const match = /^pos:\s*(\d+)/m.exec(await readFile(`/proc/self/fdinfo/${fd}`, 'utf8'));
    return match ? Number(match[1]) : null;
  } catch {
    return null;
  }
}
