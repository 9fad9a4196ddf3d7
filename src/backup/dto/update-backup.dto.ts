import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsBoolean } from 'class-validator';
import { IsPresentOrOmitted } from '../../common/dto/present-or-omitted';
import { CreateBackupDto } from './create-backup.dto';

/** PATCH /backups/:id: pin against retention, or edit notes and tags. */
export class UpdateBackupDto extends CreateBackupDto {
  @ApiPropertyOptional({ description: 'A pinned backup is never removed by retention' })
  @IsPresentOrOmitted()
  @IsBoolean()
  pinned?: boolean;
}
