import { Body, Controller, Delete, Get, HttpCode, HttpStatus, Param, ParseUUIDPipe, Patch, Post, Query, Req } from '@nestjs/common';
import type { Request } from 'express';
import { Actor } from '../auth/actor.decorator';
import { AdminApi } from '../auth/admin-api.decorator';
import { Audited, AuditedWhenDenied } from '../audit/audited.decorator';
import { BackupImportService } from './backup-import.service';
import { BackupScrubService } from './backup-scrub.service';
import { BackupUploadService } from './backup-upload.service';
import { BackupService } from './backup.service';
import { CleanupQuery } from './dto/cleanup.query';
import { DownloadQuery } from './dto/download.query';
import { CreateBackupDto } from './dto/create-backup.dto';
import { UpdateBackupDto } from './dto/update-backup.dto';
import { ListBackupsQuery } from './dto/list-backups.query';

@AdminApi()
@Controller('backups')
export class BackupController {
  constructor(
    private readonly backups: BackupService,
    private readonly importer: BackupImportService,
    private readonly uploads: BackupUploadService,
    private readonly scrubber: BackupScrubService,
  ) {}

  @Post()
  @HttpCode(HttpStatus.ACCEPTED)
  @Audited('backup.create')
  create(@Actor() actor: string, @Body() dto: CreateBackupDto) {
    return this.backups.create(actor, dto);
  }

  @Get()
  @AuditedWhenDenied('backup.list')
  list(@Query() query: ListBackupsQuery) {
    return this.backups.list(query);
  }

  @Get('stats')
  @AuditedWhenDenied('backup.stats')
  stats() {
    return this.backups.stats();
  }

  @Post('cleanup')
  @HttpCode(HttpStatus.OK)
  @Audited('backup.cleanup')
  cleanup(@Actor() actor: string, @Query() query: CleanupQuery) {
    return query.dryRun ? this.backups.cleanupPreview() : this.backups.cleanup(actor);
  }

  /** multipart/form-data, one field `file` named `*.dump`, `*.dump.zst`, `*.dump.gz` (optionally `.age`). */
  @Post('upload')
  @HttpCode(HttpStatus.CREATED)
  @Audited('backup.upload')
  upload(@Actor() actor: string, @Req() request: Request) {
    return this.uploads.upload(actor, request.headers['content-type'], request);
  }

  @Post('scrub')
  @HttpCode(HttpStatus.OK)
  @Audited('backup.scrub')
  scrub(@Actor() actor: string) {
    return this.scrubber.scrub(actor);
  }

  @Post('import')
  @HttpCode(HttpStatus.OK)
  @Audited('backup.import')
  importDirectory(@Actor() actor: string) {
    return this.importer.importDirectory(actor);
  }

  @Get(':id')
  @AuditedWhenDenied('backup.get')
  get(@Param('id', ParseUUIDPipe) id: string) {
    return this.backups.get(id);
  }

  /** `?part=files` downloads the files part (BACKUP_INCLUDE_PATHS) instead of the dump. */
  @Get(':id/download')
  @Audited('backup.download')
  download(@Param('id', ParseUUIDPipe) id: string, @Query() query: DownloadQuery) {
    return this.backups.download(id, query.part);
  }

  @Post(':id/verify')
  @HttpCode(HttpStatus.OK)
  @Audited('backup.verify')
  verify(@Param('id', ParseUUIDPipe) id: string) {
    return this.backups.verify(id);
  }

  @Patch(':id')
  @Audited('backup.update')
  update(@Param('id', ParseUUIDPipe) id: string, @Body() dto: UpdateBackupDto) {
    return this.backups.update(id, dto);
  }

  @Delete(':id')
  @HttpCode(HttpStatus.NO_CONTENT)
  @Audited('backup.delete')
  async remove(@Actor() actor: string, @Param('id', ParseUUIDPipe) id: string): Promise<void> {
    await this.backups.remove(id, actor);
  }
}
