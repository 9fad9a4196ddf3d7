import { ApiProperty } from '@nestjs/swagger';
import type { Described } from '../../openapi/described';
import { AuditOutcome } from '../audit-log.entity';
import type { AuditLog } from '../audit-log.entity';

/* The answer of /audit, for the OpenAPI document only. */

export class AuditLogResponse implements Described<AuditLog> {
  @ApiProperty({ format: 'uuid' })
  id!: string;

  @ApiProperty({ example: 'backup.create' })
  action!: string;

  @ApiProperty({ type: String, nullable: true, description: "The token's `sub`; null when no valid token was presented" })
  actor!: string | null;

  @ApiProperty({ enum: AuditOutcome, enumName: 'AuditOutcome' })
  outcome!: AuditOutcome;

  @ApiProperty({ type: String, nullable: true, description: 'The backup (or other object) acted on' })
  target!: string | null;

  @ApiProperty({ type: String, nullable: true })
  ip!: string | null;

  @ApiProperty({ type: String, format: 'date-time' })
  createdAt!: Date;

  @ApiProperty({ type: 'object', additionalProperties: true, nullable: true, description: 'The request: method, path, body; on failure its status and error' })
  detail!: Record<string, unknown> | null;

  @ApiProperty({ type: 'integer', minimum: 1, description: 'Refusals (outcome denied) of one source, actor, action and reason within a minute share one entry; this counts them' })
  count!: number;
}

export class AuditPageResponse {
  @ApiProperty({ type: () => [AuditLogResponse], description: 'Newest first' })
  items!: AuditLogResponse[];

  @ApiProperty({ type: 'integer' })
  total!: number;
}
