import { IsEnum, IsOptional } from 'class-validator';
import { PageQuery } from '../../common/dto/page.query';
import { BackupStatus, BackupType } from '../backup.types';

export class ListBackupsQuery extends PageQuery {
  @IsOptional()
  @IsEnum(BackupStatus)
  status?: BackupStatus;

  @IsOptional()
  @IsEnum(BackupType)
  type?: BackupType;
}
