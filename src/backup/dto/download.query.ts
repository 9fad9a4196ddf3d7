import { IsIn, IsOptional } from 'class-validator';

export class DownloadQuery {
  @IsOptional()
  @IsIn(['dump', 'files'])
  part?: 'dump' | 'files';
}
