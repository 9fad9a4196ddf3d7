import { Controller, Get, Query } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { AdminApi } from '../auth/admin-api.decorator';
import { RequiresPermission } from '../auth/requires-permission.decorator';
import { ApiError } from '../openapi/api-error';
import { AuditedWhenDenied } from './audited.decorator';
import { AuditService } from './audit.service';
import { AuditPageResponse } from './dto/audit-log.response';
import { ListAuditQuery } from './dto/list-audit.query';

@AdminApi()
@ApiTags('audit')
@Controller('audit')
export class AuditController {
  constructor(private readonly audit: AuditService) {}

  @Get()
  @AuditedWhenDenied('audit.list')
  @RequiresPermission('audit.read')
  @ApiOperation({ operationId: 'listAudit', summary: 'The audit log, newest first' })
  @ApiOkResponse({ type: AuditPageResponse })
  @ApiError(400, 'A query parameter broke a validation rule')
  list(@Query() query: ListAuditQuery) {
    return this.audit.list(query);
  }
}
