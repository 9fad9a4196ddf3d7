import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Equals, IsBoolean, Matches } from 'class-validator';
import { IsPresentOrOmitted } from '../../common/dto/present-or-omitted';

export class RestoreBackupDto {
  /** Must be `true`: a restore replaces the database's content. */
  @ApiProperty({ enum: [true], description: "Must be `true`: a restore replaces the database's content" })
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
}
