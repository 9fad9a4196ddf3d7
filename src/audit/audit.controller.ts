import { Controller, Get, Query } from '@nestjs/common';
import { AdminApi } from '../auth/admin-api.decorator';
import { AuditedWhenDenied } from './audited.decorator';
import { AuditService } from './audit.service';
import { ListAuditQuery } from './dto/list-audit.query';

@AdminApi()
@Controller('audit')
export class AuditController {
  constructor(private readonly audit: AuditService) {}

  @Get()
  @AuditedWhenDenied('audit.list')
  list(@Query() query: ListAuditQuery) {
    return this.audit.list(query);
  }
}
