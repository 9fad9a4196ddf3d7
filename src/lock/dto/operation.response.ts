import { ApiProperty } from '@nestjs/swagger';
import type { Described } from '../../openapi/described';
import type { CancelResult, CurrentOperation } from '../lock.service';

/* The answers of /operations, for the OpenAPI document only. */

const OPERATION_TYPES = ['backup', 'restore', 'drill', 'delete', 'cleanup', 'import', 'upload', 'scrub'];

export class OperationResponse implements Described<NonNullable<CurrentOperation['operation']>> {
  @ApiProperty({ enum: OPERATION_TYPES, enumName: 'OperationType' })
  type!: string;

  @ApiProperty({ format: 'uuid', description: 'The backup, restore or operation id' })
  id!: string;

  @ApiProperty()
  startedBy!: string;

  @ApiProperty({ type: String, format: 'date-time' })
  startedAt!: Date;

  @ApiProperty({ type: 'integer', description: 'Progress in bytes: written so far (backup), or fed to the database (restore)' })
  bytesDone!: number;

  @ApiProperty({ description: 'Past its point of no return (a restore committing): no longer cancellable' })
  irrevocable!: boolean;
}

export class CurrentOperationResponse implements Described<CurrentOperation> {
  @ApiProperty({ description: 'Some instance holds the operation lock' })
  locked!: boolean;

  @ApiProperty({ type: () => OperationResponse, nullable: true, description: 'What runs; null when nothing does (or its record is not written yet)' })
  operation!: OperationResponse | null;
}

export class CancelResultResponse implements Described<CancelResult> {
  @ApiProperty({ type: () => OperationResponse })
  operation!: OperationResponse;

  @ApiProperty({ description: 'It ended within 15 s; false: it is still stopping' })
  stopped!: boolean;
}
