import { BadRequestException } from '@nestjs/common';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { ArrayMaxSize, Equals, IsBoolean, IsIn, IsString, Matches, ValidateIf, ValidateNested } from 'class-validator';
import { IsPresentOrOmitted } from '../../common/dto/present-or-omitted';
import { RestoreRequest, RestoreTargetChoice, ROLES_MODES, RolesMode } from '../restore-request';

/** PostgreSQL's identifier limit is 63 bytes; names here are checked again against the backup's contents. */
const NAME = /^[^\s."][^."]{0,62}$/;
const QUALIFIED_NAME = /^[^\s."][^."]{0,62}\.[^\s."][^."]{0,62}$/;
const MAX_OBJECTS = 1000;

export class RestoreTargetDto {
  /** A new schema the selected objects are created in, beside the live ones. */
  @ApiPropertyOptional({ description: 'A new schema the selected objects are created in, beside the live ones', example: 'restored_orders' })
  @IsPresentOrOmitted()
  @IsString()
  @Matches(NAME, { message: 'target.schema must be a schema name (1–63 characters, no dot or double quote)' })
  schema?: string;

  /** Another database of the same server, created when missing; never the live one. */
  @ApiPropertyOptional({ description: 'Another database of the same server, created when missing; never the live one', example: 'app_restored' })
  @IsPresentOrOmitted()
  @IsString()
  @Matches(NAME, { message: 'target.database must be a database name (1–63 characters, no dot or double quote)' })
  database?: string;
}

export class RestoreBackupDto {
  /** Must be `true`: a restore replaces the database's content. Not needed with `dryRun: true`. */
  @ApiProperty({ enum: [true], description: "Must be `true`: a restore replaces the database's content (not needed with `dryRun: true`)" })
  @ValidateIf((dto: RestoreBackupDto) => dto.dryRun !== true)
  @Equals(true, { message: 'confirm must be true: a restore replaces the current content of the database' })
  confirm!: boolean;

  /** Also put the files part (BACKUP_INCLUDE_PATHS) back, after the database. */
  @ApiPropertyOptional({ default: false, description: 'Also put the files part (BACKUP_INCLUDE_PATHS) back, after the database' })
  @IsPresentOrOmitted()
  @IsBoolean()
  files?: boolean;

  /** Back up the current content first (default true). false skips it: only when you have another way back. */
  @ApiPropertyOptional({ default: true, description: 'Back up the current content first; `false` skips it (only when you have another way back)' })
  @IsPresentOrOmitted()
  @IsBoolean()
  safetyBackup?: boolean;

  /** Where the files go: an absolute directory; default `/` (back into place). */
  @ApiPropertyOptional({ pattern: '^/', default: '/', description: 'Where the files go: an absolute directory; `/` puts them back into place' })
  @IsPresentOrOmitted()
  @Matches(/^\//, { message: 'filesTarget must be an absolute path' })
  filesTarget?: string;

  /** Only these tables (`schema.table`), with their indexes, constraints, triggers, owned sequences, policies and grants. */
  @ApiPropertyOptional({ type: [String], maxItems: MAX_OBJECTS, description: 'Only these tables (`schema.table`), with their indexes, constraints, triggers, owned sequences, policies and grants' })
  @IsPresentOrOmitted()
  @ArrayMaxSize(MAX_OBJECTS)
  @IsString({ each: true })
  @Matches(QUALIFIED_NAME, { each: true, message: 'tables must be schema-qualified names: schema.table' })
  tables?: string[];

  /** Only these schemas, with everything in them. */
  @ApiPropertyOptional({ type: [String], maxItems: MAX_OBJECTS, description: 'Only these schemas, with everything in them' })
  @IsPresentOrOmitted()
  @ArrayMaxSize(MAX_OBJECTS)
  @IsString({ each: true })
  @Matches(NAME, { each: true, message: 'schemas must be schema names (1–63 characters, no dot or double quote)' })
  schemas?: string[];

  /** Where the objects go instead of over the live ones: a new schema, or another database. Exactly one of the two. */
  @ApiPropertyOptional({ type: RestoreTargetDto, description: 'Instead of over the live objects: `{ schema }` (beside them) or `{ database }` (another database); exactly one' })
  @IsPresentOrOmitted()
  @ValidateNested()
  @Type(() => RestoreTargetDto)
  target?: RestoreTargetDto;

  /** Roles the backup needs that the cluster lacks: create them (default, where allowed), restore without owners and grants, or refuse. */
  @ApiPropertyOptional({ enum: ROLES_MODES, default: 'create', description: 'Roles the backup needs that the cluster lacks: create them, restore without owners and grants (`skip`), or refuse (`require`)' })
  @IsPresentOrOmitted()
  @IsIn(ROLES_MODES, { message: `roles must be one of ${ROLES_MODES.join(', ')}` })
  roles?: RolesMode;

  /** Answer 200 with a preview of what the restore would do; nothing changes. */
  @ApiPropertyOptional({ default: false, description: 'Answer 200 with a preview of what the restore would do; nothing changes' })
  @IsPresentOrOmitted()
  @IsBoolean()
  dryRun?: boolean;
}

/** The request the service runs; 400 for a target naming both a schema and a database, or neither. */
export function toRestoreRequest(dto: RestoreBackupDto): RestoreRequest {
  if (dto.target && (dto.target.schema === undefined) === (dto.target.database === undefined)) {
    throw new BadRequestException('target must name exactly one of schema or database');
  }
  const target: RestoreTargetChoice | undefined = dto.target?.schema !== undefined ? { schema: dto.target.schema } : dto.target?.database !== undefined ? { database: dto.target.database } : undefined;
  return {
    files: dto.files ?? false,
    filesTarget: dto.filesTarget,
    safetyBackup: dto.safetyBackup,
    scope: { tables: [...new Set(dto.tables ?? [])], schemas: [...new Set(dto.schemas ?? [])] },
    target,
    roles: dto.roles,
  };
}
