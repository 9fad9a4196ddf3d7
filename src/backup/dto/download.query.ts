import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsOptional } from 'class-validator';

export class DownloadQuery {
  @ApiPropertyOptional({ enum: ['dump', 'files'], default: 'dump', description: '`files`: the files part (BACKUP_INCLUDE_PATHS) instead of the dump' })
  @IsOptional()
  @IsIn(['dump', 'files'])
  part?: 'dump' | 'files';
}
