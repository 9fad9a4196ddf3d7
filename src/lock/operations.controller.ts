import { Controller, Get, HttpCode, Post } from '@nestjs/common';
import { AdminApi } from '../auth/admin-api.decorator';
import { Audited, AuditedWhenDenied } from '../audit/audited.decorator';
import { LockService } from './lock.service';

@AdminApi()
@Controller('operations')
export class OperationsController {
  constructor(private readonly lock: LockService) {}

  @Get('current')
  @AuditedWhenDenied('operation.current')
  current() {
    return this.lock.current();
  }

  @Post('current/cancel')
  @HttpCode(200)
  @Audited('operation.cancel')
  cancel() {
    return this.lock.cancel();
  }
}
