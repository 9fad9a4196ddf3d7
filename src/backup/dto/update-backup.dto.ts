import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsBoolean, IsOptional } from 'class-validator';
import { CreateBackupDto } from './create-backup.dto';

/** PATCH /backups/:id: pin against retention, or edit notes and tags. */
export class UpdateBackupDto extends CreateBackupDto {
  @ApiPropertyOptional({ description: 'A pinned backup is never removed by retention' })
  @IsOptional()
  @IsBoolean()
  pinned?: boolean;
}
