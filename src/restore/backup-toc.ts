import { Injectable } from '@nestjs/common';
import { BackupHistory } from '../backup/backup-history.entity';
import { BackupIntegrityService } from '../backup/backup-integrity.service';
import { BackupSource } from '../backup/backup-locations';
import { Compression } from '../pipeline/backup-format';

/** An object of a backup's table of contents, as a restore creates it. */
export interface TocEntry {
  desc: string;
  /** null for objects outside any schema (a schema itself, an extension). */
  schema: string | null;
  /** The tag: a relation's or type's name, a function's `name(argument types)`, a schema's name. */
  name: string;
  owner: string | null;
}

/** A backup's table of contents, decoded in-process off the head of the file (BackupIntegrityService.archiveToc). */
@Injectable()
export class BackupTocReader {
  constructor(private readonly integrity: BackupIntegrityService) {}

  async entries(backup: BackupHistory, source: BackupSource): Promise<TocEntry[]> {
    const toc = await this.integrity.archiveToc(source, { compression: backup.compression as Compression, encrypted: backup.encrypted });
    return toc.entries.map((e) => ({ desc: e.desc, schema: e.namespace || null, name: e.tag, owner: e.owner || null }));
  }
}
