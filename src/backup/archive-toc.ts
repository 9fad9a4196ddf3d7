/**
 * The table of contents at the head of a custom-format archive (pg_dump -Fc), decoded from a
 * stream without pg_restore: unlike `pg_restore --list` it carries each entry's dependencies,
 * which is what lets a restore select one table with everything attached to it.
 * Format: PostgreSQL's pg_backup_archiver.c ReadHead/ReadToc and pg_backup_custom.c _ReadExtraToc.
 */

export interface TocEntry {
  dumpId: number;
  desc: string;
  /** Empty for objects outside any schema. */
  namespace: string;
  tag: string;
  owner: string;
  deps: number[];
}

export interface ArchiveToc {
  /** `major.minor.revision` of the archive format. */
  version: string;
  database: string;
  entries: TocEntry[];
}

const MAGIC = 'PGDMP';
const FORMAT_CUSTOM = 1;
/** Oldest format read here: 1.12 (PostgreSQL 9.6's pg_dump, with the section and tablespace fields). */
const OLDEST = version(1, 12, 0);
/** Newest format known here (PostgreSQL 17's relkind field). */
const NEWEST = version(1, 16, 0);

function version(major: number, minor: number, revision: number): number {
  return (major * 256 + minor) * 256 + revision;
}

/** The table of contents of the archive `chunks` carries; stops reading once it is decoded. */
export async function readArchiveToc(chunks: AsyncIterable<Buffer>): Promise<ArchiveToc> {
  const input = new ByteReader(chunks[Symbol.asyncIterator]());
  if ((await input.bytes(MAGIC.length)).toString('latin1') !== MAGIC) throw new Error('not a custom-format archive (no PGDMP header)');
  const [major, minor, revision] = [await input.byte(), await input.byte(), await input.byte()];
  const v = version(major, minor, revision);
  if (v < OLDEST || v > NEWEST) throw new Error(`archive format ${major}.${minor}.${revision} is not supported here (1.12 to 1.16)`);
  input.intSize = await input.byte();
  const offSize = await input.byte();
  if ((await input.byte()) !== FORMAT_CUSTOM) throw new Error('not a custom-format archive');
  if (v >= version(1, 15, 0)) await input.byte(); // compression algorithm
  else await input.int(); // compression level
  for (let i = 0; i < 7; i++) await input.int(); // creation time
  const database = (await input.str()) ?? '';
  await input.str(); // server version
  await input.str(); // pg_dump version
  const count = await input.int();
  const entries: TocEntry[] = [];
  for (let i = 0; i < count; i++) {
    const dumpId = await input.int();
    await input.int(); // had dumper
    await input.str(); // catalog oid
    await input.str(); // object oid
    const tag = (await input.str()) ?? '';
    const desc = (await input.str()) ?? '';
    await input.int(); // section
    await input.str(); // definition
    await input.str(); // drop statement
    await input.str(); // copy statement
    const namespace = (await input.str()) ?? '';
    await input.str(); // tablespace
    if (v >= version(1, 14, 0)) await input.str(); // table access method
    if (v >= version(1, 16, 0)) await input.int(); // relkind
    const owner = (await input.str()) ?? '';
    await input.str(); // "false" (was: with OIDs)
    const deps: number[] = [];
    for (let dep = await input.str(); dep !== null; dep = await input.str()) deps.push(Number(dep));
    await input.bytes(1 + offSize); // data state and offset
    entries.push({ dumpId, desc, namespace, tag, owner, deps });
  }
  return { version: `${major}.${minor}.${revision}`, database, entries };
}

/** Pulls bytes off an async chunk iterator as the parser asks for them; a short stream is a truncated archive. */
class ByteReader {
  intSize = 4;
  private buffer = Buffer.alloc(0);
  private at = 0;

  constructor(private readonly source: AsyncIterator<Buffer>) {}

  async bytes(n: number): Promise<Buffer> {
    while (this.buffer.length - this.at < n) {
      const next = await this.source.next();
      if (next.done) throw new Error('the archive ends inside its table of contents');
      this.buffer = Buffer.concat([this.buffer.subarray(this.at), next.value]);
      this.at = 0;
    }
    const out = this.buffer.subarray(this.at, this.at + n);
    this.at += n;
    return out;
  }

  async byte(): Promise<number> {
    return (await this.bytes(1))[0];
  }

  /** A sign byte, then intSize bytes little-endian. */
  async int(): Promise<number> {
    const raw = await this.bytes(1 + this.intSize);
    let value = 0;
    for (let i = this.intSize; i >= 1; i--) value = value * 256 + raw[i];
    return raw[0] ? -value : value;
  }

  /** A length (-1: null), then that many bytes of UTF-8. */
  async str(): Promise<string | null> {
    const length = await this.int();
    if (length < 0) return null;
    if (length > 1 << 30) throw new Error('the archive holds a string longer than 1 GiB in its table of contents');
    return (await this.bytes(length)).toString('utf8');
  }
}

/** `schema.tag`, or the tag alone for an entry outside any schema. */
export function qualifiedName(e: TocEntry): string {
  return e.namespace ? `${e.namespace}.${e.tag}` : e.tag;
}
