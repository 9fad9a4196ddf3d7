import { Controller, Get, Inject, Req } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Request } from 'express';
import { AuditedWhenDenied } from '../audit/audited.decorator';
import { PG_BACKUP_OPTIONS, PgBackupOptions } from '../pg-backup.options';
import { AdminApi } from './admin-api.decorator';
import { AdminPrincipal } from './admin-principal';
import { MeResponse } from './dto/me.response';
import { AccessLevel, accessLevel, Permission, permissionsOf } from './permissions';
import { RequiresPermission } from './requires-permission.decorator';

export interface Me {
  sub: string;
  level: AccessLevel;
  permissions: Permission[];
}

@AdminApi()
@ApiTags('auth')
@Controller('me')
export class MeController {
  constructor(@Inject(PG_BACKUP_OPTIONS) private readonly options: PgBackupOptions) {}

  @Get()
  @AuditedWhenDenied('auth.me')
  @RequiresPermission('me.read')
  @ApiOperation({
    operationId: 'getMe',
    summary: 'Who the token is and what it may do',
    description: 'An admin page shows only the actions listed in `permissions`; the server refuses the others anyway (403).',
  })
  @ApiOkResponse({ type: MeResponse })
  me(@Req() request: Request & { user: AdminPrincipal }): Me {
    // the guard let it in, so it has a level
    const level = accessLevel(request.user, this.options.auth)!;
    return { sub: request.user.sub, level, permissions: permissionsOf(level) };
  }
}
