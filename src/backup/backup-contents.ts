import type { ArchiveToc } from './archive-toc';
import { qualifiedName } from './archive-toc';
import type { BackupContents, BackupMetadata } from './backup.types';

/** What the backup holds, from its table of contents, with the row counts and sizes recorded at backup time. */
export function backupContents(toc: ArchiveToc, metadata?: BackupMetadata | null): BackupContents {
  const of = (...descs: string[]) =>
    toc.entries
      .filter((e) => descs.includes(e.desc))
      .map(qualifiedName)
      .sort();
  const estimated = new Set(metadata?.estimatedTables ?? []);
  const schemas = new Set(toc.entries.flatMap((e) => (e.desc === 'SCHEMA' ? [e.tag] : e.namespace ? [e.namespace] : [])));
  const owners = new Set(toc.entries.map((e) => e.owner).filter(Boolean));
  return {
    archiveVersion: toc.version,
    schemas: [...schemas].sort(),
    tables: toc.entries
      .filter((e) => e.desc === 'TABLE')
      .map((e) => {
        const name = qualifiedName(e);
        return {
          schema: e.namespace,
          name: e.tag,
          rows: metadata?.tables?.[name] ?? null,
          rowsEstimated: estimated.has(name),
          sizeBytes: metadata?.tableBytes?.[name] ?? null,
        };
      })
      .sort((a, b) => (`${a.schema}.${a.name}` < `${b.schema}.${b.name}` ? -1 : 1)),
    views: of('VIEW'),
    materializedViews: of('MATERIALIZED VIEW'),
    functions: of('FUNCTION', 'PROCEDURE', 'AGGREGATE'),
    sequences: of('SEQUENCE'),
    types: of('TYPE', 'DOMAIN'),
    extensions: of('EXTENSION'),
    largeObjects: metadata?.largeObjects ?? toc.entries.filter((e) => e.desc === 'BLOB').length,
    roles: [...owners].sort(),
  };
}

