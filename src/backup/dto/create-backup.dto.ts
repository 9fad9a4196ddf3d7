import { ApiPropertyOptional } from '@nestjs/swagger';
import { ArrayMaxSize, IsArray, IsOptional, IsString, Matches, MaxLength } from 'class-validator';
import { IsPresentOrOmitted } from '../../common/dto/present-or-omitted';

export class CreateBackupDto {
  @ApiPropertyOptional({ maxLength: 2000 })
  @IsOptional()
  @IsString()
  @MaxLength(2000)
  notes?: string;

  @ApiPropertyOptional({ type: 'array', maxItems: 20, items: { type: 'string', maxLength: 64, pattern: '^[\\w.:-]+$' } })
  @IsPresentOrOmitted()
  @IsArray()
  @ArrayMaxSize(20)
  @IsString({ each: true })
  @MaxLength(64, { each: true })
  @Matches(/^[\w.:-]+$/, { each: true, message: 'each tag may hold letters, digits and . _ : - only' })
  tags?: string[];
}
