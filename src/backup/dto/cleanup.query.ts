import { ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsBoolean, IsOptional } from 'class-validator';

export class CleanupQuery {
  /** `?dryRun=true`: report what would be deleted, delete nothing. */
  @ApiPropertyOptional({ type: Boolean, description: 'Report what would be deleted and archived, change nothing' })
  @IsOptional()
  @Transform(({ value }) => (value === 'true' ? true : value === 'false' ? false : value))
  @IsBoolean()
  dryRun?: boolean;
}
