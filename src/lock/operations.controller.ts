import { Controller, Get } from '@nestjs/common';
import { AdminApi } from '../auth/admin-api.decorator';
import { AuditedWhenDenied } from '../audit/audited.decorator';
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
}
