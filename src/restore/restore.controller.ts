import { Body, Controller, Get, HttpCode, HttpStatus, Param, ParseUUIDPipe, Post, Query, Res } from '@nestjs/common';
import type { Response } from 'express';
import { ApiAcceptedResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Actor } from '../auth/actor.decorator';
import { AdminApi } from '../auth/admin-api.decorator';
import { RequiresPermission } from '../auth/requires-permission.decorator';
import { Audited, AuditedWhenDenied } from '../audit/audited.decorator';
import { ApiBackupNotFound, ApiError, ApiIdParam, ApiLockHeld } from '../openapi/api-error';
import { ListRestoresQuery } from './dto/list-restores.query';
import { RestoreBackupDto, toRestoreRequest } from './dto/restore-backup.dto';
import { DrillStartedResponse, RestorePageResponse, RestorePreviewResponse, RestoreResponse } from './dto/restore.response';
import { DrillService } from './drill.service';
import { RestorePreviewService } from './restore-preview.service';
import { RestoreService } from './restore.service';

@AdminApi()
@ApiTags('restores')
@Controller()
export class RestoreController {
  constructor(
    private readonly restores: RestoreService,
    private readonly drills: DrillService,
    private readonly previews: RestorePreviewService,
  ) {}

  @Post('backups/:id/restore')
  @HttpCode(HttpStatus.ACCEPTED)
  @Audited('backup.restore')
  @RequiresPermission('backup.restore')
  @ApiOperation({
    operationId: 'restoreBackup',
    summary: 'Restore a backup over the database, or some of its tables or schemas, in place, beside the live ones or into another database',
    description:
      'Checks the backup, takes a safety backup (of only the replaced tables or schemas with `tables`/`schemas`; none beside or into another database), ' +
      'then restores in one transaction, in the background; poll GET /restores/{id}. `tables`/`schemas`: only those objects, with their data, indexes, ' +
      "constraints, triggers, owned sequences, policies and grants; other tables' foreign keys into them are checked before the commit, and a restore that would " +
      'break one fails, naming it. `target.schema`: into that new schema, the live objects untouched (foreign keys to tables not restored are left out, ' +
      'listed in `detail.leftOut`). `target.database`: into that database of the same server, created when missing. ' +
      'With `dryRun: true` it answers 200 with a preview instead (no `confirm` needed): nothing changes, no lock is taken, and it answers while another operation runs.',
  })
  @ApiAcceptedResponse({ type: RestoreResponse, description: 'Started; `status` is `running`' })
  @ApiOkResponse({ type: RestorePreviewResponse, description: 'With `dryRun: true`: what the restore would do; nothing was changed' })
  @ApiIdParam(
    'backup',
    'The id is not a UUID, `confirm` is not `true`, `filesTarget` is not absolute, a name is malformed, `target` names both or neither, ' +
      '`target.schema` without `tables`/`schemas` or with several schemas, `roles` with `target.database`',
  )
  @ApiBackupNotFound()
  @ApiError(409, 'Another operation holds the lock; or `target.schema` exists, or `target.database` is the live database, a template, not empty, or holds an installation of this module')
  @ApiError(
    422,
    'The backup is not completed, not intact, has no intact files part (with `files: true`), or does not hold a table or schema named; or it needs roles the cluster lacks ' +
      'and `roles` is `require`, or `create` by a role that may not create roles, or `skip` with a row security policy naming one; nothing was changed',
  )
  restore(@Actor() actor: string, @Param('id', ParseUUIDPipe) id: string, @Body() dto: RestoreBackupDto, @Res({ passthrough: true }) response: Response) {
    const request = toRestoreRequest(dto);
    if (!dto.dryRun) return this.restores.start(actor, id, request);
    response.status(HttpStatus.OK);
    return this.previews.preview(id, request);
  }

  @Post('backups/:id/drill')
  @HttpCode(HttpStatus.ACCEPTED)
  @Audited('backup.drill')
  @RequiresPermission('backup.drill')
  @ApiOperation({
    operationId: 'drillBackup',
    summary: 'Restore a backup into a scratch database and compare row counts',
    description: "Runs in the background; the result lands on the backup's `drill`. The scratch database is dropped however the drill ends.",
  })
  @ApiAcceptedResponse({ type: DrillStartedResponse })
  @ApiIdParam('backup')
  @ApiBackupNotFound()
  @ApiLockHeld()
  @ApiError(422, 'The backup is not completed')
  drill(@Actor() actor: string, @Param('id', ParseUUIDPipe) id: string) {
    return this.drills.start(actor, id);
  }

  @Get('restores')
  @AuditedWhenDenied('restore.list')
  @RequiresPermission('restores.read')
  @ApiOperation({ operationId: 'listRestores', summary: 'List restores, newest first' })
  @ApiOkResponse({ type: RestorePageResponse })
  @ApiError(400, 'A query parameter broke a validation rule')
  list(@Query() query: ListRestoresQuery) {
    return this.restores.list(query);
  }

  @Get('restores/:id')
  @AuditedWhenDenied('restore.get')
  @RequiresPermission('restores.read')
  @ApiOperation({ operationId: 'getRestore', summary: 'One restore' })
  @ApiOkResponse({ type: RestoreResponse })
  @ApiIdParam('restore')
  @ApiError(404, 'No restore with this id')
  get(@Param('id', ParseUUIDPipe) id: string) {
    return this.restores.get(id);
  }
}
