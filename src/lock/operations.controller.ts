import { Controller, Get, HttpCode, Post } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { AdminApi } from '../auth/admin-api.decorator';
import { RequiresPermission } from '../auth/requires-permission.decorator';
import { Audited, AuditedWhenDenied } from '../audit/audited.decorator';
import { ApiError } from '../openapi/api-error';
import { CancelResultResponse, CurrentOperationResponse } from './dto/operation.response';
import { LockService } from './lock.service';

@AdminApi()
@ApiTags('operations')
@Controller('operations')
export class OperationsController {
  constructor(private readonly lock: LockService) {}

  @Get('current')
  @AuditedWhenDenied('operation.current')
  @RequiresPermission('operations.read')
  @ApiOperation({ operationId: 'getCurrentOperation', summary: 'The operation running now, on any instance' })
  @ApiOkResponse({ type: CurrentOperationResponse })
  current() {
    return this.lock.current();
  }

  @Post('current/cancel')
  @HttpCode(200)
  @Audited('operation.cancel')
  @RequiresPermission('operation.cancel')
  @ApiOperation({
    operationId: 'cancelCurrentOperation',
    summary: 'Cancel the running backup, restore, drill or scrub',
    description: 'Reaches whichever instance runs it, and waits up to 15 s for it to stop.',
  })
  @ApiOkResponse({ type: CancelResultResponse })
  @ApiError(409, 'Nothing runs, the operation cannot be cancelled, or a restore is past its point of no return')
  cancel() {
    return this.lock.cancel();
  }
}
