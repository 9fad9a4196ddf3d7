import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsEnum, IsOptional, IsString, MaxLength } from 'class-validator';
import { PageQuery } from '../../common/dto/page.query';
import { AuditOutcome } from '../audit-log.entity';

export class ListAuditQuery extends PageQuery {
  @ApiPropertyOptional({ maxLength: 100, description: 'Only this action, e.g. `backup.create`' })
  @IsOptional()
  @IsString()
  @MaxLength(100)
  action?: string;

  @ApiPropertyOptional({ maxLength: 200, description: "Only this actor (the token's `sub`)" })
  @IsOptional()
  @IsString()
  @MaxLength(200)
  actor?: string;

  @ApiPropertyOptional({ enum: AuditOutcome, enumName: 'AuditOutcome' })
  @IsOptional()
  @IsEnum(AuditOutcome)
  outcome?: AuditOutcome;
}
