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

export interface Selection {
  /** The archive's entries to restore, in archive order (what `pg_restore -L` reads). */
  dumpIds: number[];
  /** The tables restored, `schema.table`. */
  tables: string[];
  /** Foreign keys left out of a restore beside the live objects: they reference tables not restored (`schema.table constraint`). */
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
 * is not among them (it belongs to that table). `beside`: restored into a new schema, so the
 * schema's own entry is left to the caller, and foreign keys to anything not restored are left out.
 */
export function selectEntries(toc: ArchiveToc, scope: RestoreScope, { beside = false } = {}): Selection {
  const byId = new Map(toc.entries.map((e) => [e.dumpId, e]));
  const wanted = new Set(scope.tables);
  const schemas = new Set(scope.schemas);
  const selected = new Set<number>();
  for (const e of toc.entries) {
    if ((e.desc === 'TABLE' && wanted.has(qualifiedName(e))) || schemas.has(e.namespace) || (e.desc === 'SCHEMA' && schemas.has(e.tag))) selected.add(e.dumpId);
  }
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
  // owned sequences (serial: SEQUENCE OWNED BY; identity: the SEQUENCE entry depends on its table)
  for (const e of toc.entries) {
    if (e.desc === 'SEQUENCE OWNED BY' && e.deps.some(isSelectedOwner)) for (const dep of e.deps) if (byId.get(dep)?.desc === 'SEQUENCE') selected.add(dep);
    if (e.desc === 'SEQUENCE' && e.deps.some(isSelectedOwner)) selected.add(e.dumpId);
  }
  for (let grown = true; grown; ) {
    grown = false;
    for (const e of toc.entries) {
      if (selected.has(e.dumpId)) continue;
      if ((ATTACHED.has(e.desc) && ownedBySelected(e)) || (ABOUT.has(e.desc) && e.deps.some((d) => selected.has(d)))) {
        selected.add(e.dumpId);
        grown = true;
      }
    }
  }
  const leftOut: string[] = [];
  if (beside) {
    for (const e of toc.entries) {
      if (!selected.has(e.dumpId)) continue;
      if (e.desc === 'SCHEMA') selected.delete(e.dumpId);
      if (e.desc === 'FK CONSTRAINT' && e.deps.some((d) => !selected.has(d))) {
        selected.delete(e.dumpId);
        leftOut.push(qualifiedName(e));
      }
    }
  }
  const entries = toc.entries.filter((e) => selected.has(e.dumpId));
  return { dumpIds: entries.map((e) => e.dumpId), tables: entries.filter((e) => e.desc === 'TABLE').map(qualifiedName), leftOut };
}

/** A `pg_restore --use-list` file naming exactly `dumpIds`. */
export function useListText(dumpIds: readonly number[]): string {
  return dumpIds.map((id) => `${id};\n`).join('');
}
