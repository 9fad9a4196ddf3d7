import { IsBoolean, IsOptional } from 'class-validator';
import { CreateBackupDto } from './create-backup.dto';

/** PATCH /backups/:id: pin against retention, or edit notes and tags. */
export class UpdateBackupDto extends CreateBackupDto {
  @IsOptional()
  @IsBoolean()
  pinned?: boolean;
}
