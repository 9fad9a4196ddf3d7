import { ApiProperty } from '@nestjs/swagger';
import type { Described } from '../../openapi/described';
import type { BackupContents, BackupContentsTable } from '../backup.types';

/* GET /backups/:id/contents, for the OpenAPI document only. */

export class BackupContentsTableResponse implements Described<BackupContentsTable> {
  @ApiProperty({ example: 'public' })
  schema!: string;

  @ApiProperty({ example: 'orders' })
  name!: string;

  @ApiProperty({ type: 'integer', nullable: true, description: 'Rows at backup time; null when not recorded (an uploaded or imported backup)' })
  rows!: number | null;

  @ApiProperty({ description: "`rows` is the planner's estimate (a table above the exact-count size)" })
  rowsEstimated!: boolean;

  @ApiProperty({ type: 'integer', nullable: true, description: "Heap + TOAST bytes at backup time, from the catalog's page counts (as of the last VACUUM or ANALYZE); null when not recorded" })
  sizeBytes!: number | null;
}

export class BackupContentsResponse implements Described<BackupContents> {
  @ApiProperty({ example: '1.14.0', description: 'The custom-format archive version' })
  archiveVersion!: string;

  @ApiProperty({ type: [String] })
  schemas!: string[];

  @ApiProperty({ type: [BackupContentsTableResponse], description: 'What `tables` of a restore can name, as `schema.name`' })
  tables!: BackupContentsTableResponse[];

  @ApiProperty({ type: [String], description: '`schema.name`' })
  views!: string[];

  @ApiProperty({ type: [String], description: '`schema.name`' })
  materializedViews!: string[];

  @ApiProperty({ type: [String], description: 'Functions, procedures and aggregates: `schema.name(arguments)`' })
  functions!: string[];

  @ApiProperty({ type: [String], description: '`schema.name`' })
  sequences!: string[];

  @ApiProperty({ type: [String], description: 'Types and domains: `schema.name`' })
  types!: string[];

  @ApiProperty({ type: [String] })
  extensions!: string[];

  @ApiProperty({ type: 'integer' })
  largeObjects!: number;

  @ApiProperty({ type: [String], description: "Roles that own the backup's objects: they must exist for the owners to come back" })
  roles!: string[];
}
