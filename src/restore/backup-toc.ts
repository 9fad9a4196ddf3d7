import { Injectable } from '@nestjs/common';
import { pipeline } from 'node:stream/promises';
import { BackupHistory } from '../backup/backup-history.entity';
import { BackupSource } from '../backup/backup-locations';
import { DatabaseInfoRepository } from '../database/database-info.repository';
import { pgRestoreListArgs } from '../infra/process/pg-args';
import { childStdinSink } from '../infra/process/child-stdin-sink';
import { PgToolsRepository } from '../infra/process/pg-tools.repository';
import { ProcessRepository } from '../infra/process/process.repository';
import { Compression } from '../pipeline/backup-format';
import { BackupPipeline } from '../pipeline/backup-pipeline.service';

/** One line of `pg_restore --list`: `<id>; <tableoid> <oid> <desc> <schema or -> <tag> <owner>`. */
export interface TocEntry {
  line: string;
  desc: string;
  /** null for objects outside any schema (a schema itself, an extension). */
  schema: string | null;
  /** The tag: a relation's or type's name, a function's `name(argument types)`, a schema's name. */
  name: string;
  owner: string | null;
}

/** Longest first: `TABLE DATA` before `TABLE`. */
const DESCS = [
  'MATERIALIZED VIEW DATA', 'DEFAULT ACL', 'FK CONSTRAINT', 'CHECK CONSTRAINT', 'INDEX ATTACH', 'TABLE ATTACH', 'TABLE DATA', 'SEQUENCE SET',
  'SEQUENCE OWNED BY', 'MATERIALIZED VIEW', 'FOREIGN TABLE', 'LARGE OBJECT', 'BLOB DATA', 'BLOBS', 'BLOB', 'EVENT TRIGGER', 'TEXT SEARCH CONFIGURATION',
  'TEXT SEARCH DICTIONARY', 'TEXT SEARCH PARSER', 'TEXT SEARCH TEMPLATE', 'OPERATOR CLASS', 'OPERATOR FAMILY', 'SERVER', 'USER MAPPING',
  'FOREIGN DATA WRAPPER', 'PUBLICATION TABLES IN SCHEMA', 'PUBLICATION TABLE', 'PUBLICATION', 'SUBSCRIPTION', 'ROW SECURITY', 'POLICY',
  'STATISTICS', 'CONSTRAINT', 'TRIGGER', 'RULE', 'INDEX', 'TABLE', 'VIEW', 'SEQUENCE', 'FUNCTION', 'PROCEDURE', 'AGGREGATE', 'TYPE',
  'SHELL TYPE', 'DOMAIN', 'SCHEMA', 'EXTENSION', 'COMMENT', 'ACL', 'DEFAULT', 'COLLATION', 'CONVERSION', 'CAST', 'OPERATOR',
  'PROCEDURAL LANGUAGE', 'ACCESS METHOD', 'TRANSFORM',
].sort((a, b) => b.length - a.length);

/**
 * The entries of a `pg_restore --list` output. Names are not quoted there, so a schema name with
 * a space is told apart by the backup's own SCHEMA entries (`public` needs none).
 */
export function parseToc(lines: string[]): TocEntry[] {
  const raw = lines.flatMap((line) => {
    const head = /^\d+; \d+ \d+ /.exec(line);
    if (!head) return [];
    const rest = line.slice(head[0].length);
    const desc = DESCS.find((d) => rest.startsWith(`${d} `));
    return desc ? [{ line, desc, rest: rest.slice(desc.length + 1) }] : [];
  });
  const words = (text: string) => {
    const space = text.lastIndexOf(' ');
    return space < 0 ? { body: text, owner: null } : { body: text.slice(0, space), owner: text.slice(space + 1) || null };
  };
  const schemas = new Set(['public']);
  for (const entry of raw) if (entry.desc === 'SCHEMA' && entry.rest.startsWith('- ')) schemas.add(words(entry.rest.slice(2)).body);
  const byLength = [...schemas].sort((a, b) => b.length - a.length);
  return raw.map(({ line, desc, rest }) => {
    const { body, owner } = words(rest);
    if (body.startsWith('- ')) return { line, desc, schema: null, name: body.slice(2), owner };
    const schema = byLength.find((s) => body.startsWith(`${s} `)) ?? body.slice(0, Math.max(0, body.indexOf(' ')));
    return { line, desc, schema, name: body.slice(schema.length + 1), owner };
  });
}

/** Decodes a backup just far enough for pg_restore to list its table of contents. */
@Injectable()
export class BackupTocReader {
  constructor(
    private readonly database: DatabaseInfoRepository,
    private readonly pgTools: PgToolsRepository,
    private readonly processes: ProcessRepository,
    private readonly backupPipeline: BackupPipeline,
  ) {}

  /** pg_restore --list on the decoded file; the feed stops once pg_restore has read the table of contents. */
  async entries(backup: BackupHistory, source: BackupSource): Promise<TocEntry[]> {
    const tools = await this.pgTools.forServer((await this.database.server()).major);
    const stages = this.backupPipeline.decoders({ compression: backup.compression as Compression, encrypted: backup.encrypted });
    try {
      const list = this.processes.spawn(tools.pgRestore, pgRestoreListArgs(), { env: { PATH: process.env.PATH }, stdin: true });
      let output = '';
      list.stdout!.setEncoding('utf8');
      list.stdout!.on('data', (chunk: string) => (output += chunk));
      const stop = new AbortController();
      const feed = pipeline([source.open(), ...stages.map((s) => s.stream), childStdinSink(list.stdin!)], { signal: stop.signal }).catch(() => undefined);
      try {
        await list.completion;
      } finally {
        stop.abort();
        await feed;
      }
      return parseToc(output.split('\n'));
    } finally {
      for (const stage of stages) stage.kill();
    }
  }
}
