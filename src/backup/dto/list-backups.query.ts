import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsEnum, IsOptional } from 'class-validator';
import { PageQuery } from '../../common/dto/page.query';
import { BackupStatus, BackupType } from '../backup.types';

export class ListBackupsQuery extends PageQuery {
  @ApiPropertyOptional({ enum: BackupStatus, enumName: 'BackupStatus' })
  @IsOptional()
  @IsEnum(BackupStatus)
  status?: BackupStatus;

  @ApiPropertyOptional({ enum: BackupType, enumName: 'BackupType' })
  @IsOptional()
  @IsEnum(BackupType)
  type?: BackupType;
}
