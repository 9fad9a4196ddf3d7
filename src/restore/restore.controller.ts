import { Body, Controller, Get, HttpCode, HttpStatus, Param, ParseUUIDPipe, Post, Query } from '@nestjs/common';
import { Actor } from '../auth/actor.decorator';
import { AdminApi } from '../auth/admin-api.decorator';
import { Audited, AuditedWhenDenied } from '../audit/audited.decorator';
import { ListRestoresQuery } from './dto/list-restores.query';
import { RestoreBackupDto } from './dto/restore-backup.dto';
import { DrillService } from './drill.service';
import { RestoreService } from './restore.service';

@AdminApi()
@Controller()
export class RestoreController {
  constructor(
    private readonly restores: RestoreService,
    private readonly drills: DrillService,
  ) {}

  @Post('backups/:id/restore')
  @HttpCode(HttpStatus.ACCEPTED)
  @Audited('backup.restore')
  restore(@Actor() actor: string, @Param('id', ParseUUIDPipe) id: string, @Body() dto: RestoreBackupDto) {
    return this.restores.start(actor, id, { files: dto.files ?? false, filesTarget: dto.filesTarget });
  }

  @Post('backups/:id/drill')
  @HttpCode(HttpStatus.ACCEPTED)
  @Audited('backup.drill')
  drill(@Actor() actor: string, @Param('id', ParseUUIDPipe) id: string) {
    return this.drills.start(actor, id);
  }

  @Get('restores')
  @AuditedWhenDenied('restore.list')
  list(@Query() query: ListRestoresQuery) {
    return this.restores.list(query);
  }

  @Get('restores/:id')
  @AuditedWhenDenied('restore.get')
  get(@Param('id', ParseUUIDPipe) id: string) {
    return this.restores.get(id);
  }
}
