import { ArchiveToc, qualifiedName, TocEntry } from '../backup/archive-toc';
import type { RestoreScope } from './restore-request';

/** Entries that belong to one table (or sequence): they come back with it. */
const ATTACHED = new Set([
  'TABLE DATA',
  'DEFAULT',
  'CONSTRAINT',
  'CHECK CONSTRAINT',
  'FK CONSTRAINT',
  'INDEX',
  'TRIGGER',
  'POLICY',
  'ROW SECURITY',
  'RULE',
  'STATISTICS',
  'SEQUENCE SET',
  'SEQUENCE OWNED BY',
]);
/** Entries about any one object, whatever it is. */
const ABOUT = new Set(['COMMENT', 'ACL', 'SECURITY LABEL']);
const OWNERS = new Set(['TABLE', 'SEQUENCE']);
/** Entries tagged `table name`: their dependencies may name other tables too (a foreign key's referenced one, a default's sequence). */
const TAGGED_BY_TABLE = new Set(['DEFAULT', 'CONSTRAINT', 'CHECK CONSTRAINT', 'FK CONSTRAINT', 'TRIGGER', 'POLICY', 'RULE']);

/** Over the live objects, beside them in a new schema, or into another (empty) database. */
export type SelectionMode = 'inPlace' | 'beside' | 'elsewhere';

/** What restored objects may need that lives outside them: restored along where the live ones are not reachable. */
const PULLED = new Set([
  'SCHEMA',
  'EXTENSION',
  'FUNCTION',
  'PROCEDURE',
  'AGGREGATE',
  'TYPE',
  'SHELL TYPE',
  'DOMAIN',
  'COLLATION',
  'SEQUENCE',
  'OPERATOR',
  'OPERATOR CLASS',
  'OPERATOR FAMILY',
  'TEXT SEARCH CONFIGURATION',
  'TEXT SEARCH DICTIONARY',
]);

export interface Selection {
  /** The archive's entries to restore, in archive order (what `pg_restore -L` reads). */
  dumpIds: number[];
  /** The tables restored, `schema.table`. */
  tables: string[];
  /** Schemas the selection creates objects in (a table's or a selected schema). */
  schemas: string[];
  /** Foreign keys left out because they reference a table not restored (`schema.table constraint`); never in place. */
  leftOut: string[];
}

/** `schema.table` and schema names of the scope that the archive does not hold. */
export function unknownNames(toc: ArchiveToc, scope: RestoreScope): string[] {
  const tables = new Set(toc.entries.filter((e) => e.desc === 'TABLE').map(qualifiedName));
  const schemas = new Set(toc.entries.flatMap((e) => (e.desc === 'SCHEMA' ? [e.tag] : e.namespace ? [e.namespace] : [])));
  return [...scope.tables.filter((t) => !tables.has(t)), ...scope.schemas.filter((s) => !schemas.has(s))];
}

/**
 * The entries that restore the scope's tables and schemas: each table with its data, defaults,
 * constraints, indexes, triggers, policies, rules, owned sequences (and their values), comments
 * and grants; each schema with everything in it. Another table's foreign key into a selected one
 * is not among them (it belongs to that table).
 * Not in place, what they need comes along: beside, the functions, types and sequences of their
 * own schema (which the restore puts aside while it runs) but not the schema's entry itself; into
 * another database, everything they need. Foreign keys to tables not restored are left out.
 */
export function selectEntries(toc: ArchiveToc, scope: RestoreScope, mode: SelectionMode = 'inPlace'): Selection {
  const byId = new Map(toc.entries.map((e) => [e.dumpId, e]));
  const wanted = new Set(scope.tables);
  const schemas = new Set(scope.schemas);
  const selected = new Set<number>();
  for (const e of toc.entries) {
    if ((e.desc === 'TABLE' && wanted.has(qualifiedName(e))) || schemas.has(e.namespace) || (e.desc === 'SCHEMA' && schemas.has(e.tag))) selected.add(e.dumpId);
  }
  const homes = new Set(toc.entries.filter((e) => selected.has(e.dumpId) && e.namespace).map((e) => e.namespace));
  const isSelectedOwner = (id: number) => selected.has(id) && OWNERS.has(byId.get(id)?.desc ?? '');
  /** The table an attached entry belongs to: for a `table name` tag, the longest table name it starts with. */
  const ownedBySelected = (e: TocEntry) => {
    if (!TAGGED_BY_TABLE.has(e.desc)) return e.deps.some(isSelectedOwner);
    const owner = e.deps
      .map((d) => byId.get(d))
      .filter((d): d is TocEntry => d?.desc === 'TABLE' && d.namespace === e.namespace && e.tag.startsWith(`${d.tag} `))
      .sort((a, b) => b.tag.length - a.tag.length)[0];
    return !!owner && selected.has(owner.dumpId);
  };
  const pulls = (dep: TocEntry | undefined): dep is TocEntry =>
    !!dep && PULLED.has(dep.desc) && (mode === 'elsewhere' || (mode === 'beside' && homes.has(dep.namespace)));
  for (let grown = true; grown; ) {
    grown = false;
    const add = (id: number) => {
      if (selected.has(id)) return;
      selected.add(id);
      grown = true;
    };
    for (const e of toc.entries) {
      // owned sequences: serial (SEQUENCE OWNED BY) and identity (the SEQUENCE entry depends on its table)
      if (e.desc === 'SEQUENCE OWNED BY' && e.deps.some(isSelectedOwner)) for (const dep of e.deps) if (byId.get(dep)?.desc === 'SEQUENCE') add(dep);
      if (e.desc === 'SEQUENCE' && e.deps.some(isSelectedOwner)) add(e.dumpId);
      if ((ATTACHED.has(e.desc) && ownedBySelected(e)) || (ABOUT.has(e.desc) && e.deps.some((d) => selected.has(d)))) add(e.dumpId);
      if (selected.has(e.dumpId) && mode !== 'inPlace') for (const dep of e.deps) if (pulls(byId.get(dep))) add(dep);
    }
  }
  const leftOut: string[] = [];
  if (mode !== 'inPlace') {
    for (const e of toc.entries) {
      if (!selected.has(e.dumpId)) continue;
      if (e.desc === 'SCHEMA' && mode === 'beside') selected.delete(e.dumpId);
      if (e.desc === 'FK CONSTRAINT' && e.deps.some((d) => !selected.has(d))) {
        selected.delete(e.dumpId);
        leftOut.push(qualifiedName(e));
      }
    }
  }
  const entries = toc.entries.filter((e) => selected.has(e.dumpId));
  return {
    dumpIds: entries.map((e) => e.dumpId),
    tables: entries.filter((e) => e.desc === 'TABLE').map(qualifiedName),
    schemas: [...new Set([...scope.schemas, ...scope.tables.map((t) => t.slice(0, t.indexOf('.')))])].sort(),
    leftOut,
  };
}

/** Whether the archive has an entry creating `schema` (PostgreSQL 15's pg_dump writes none for an unchanged `public`). */
export function createsSchema(toc: ArchiveToc, schema: string): boolean {
  return toc.entries.some((e) => e.desc === 'SCHEMA' && e.tag === schema);
}

/** A `pg_restore --use-list` file naming exactly `dumpIds`. */
export function useListText(dumpIds: readonly number[]): string {
  return dumpIds.map((id) => `${id};\n`).join('');
}
