import { Body, Controller, Delete, Get, HttpCode, HttpStatus, Param, ParseUUIDPipe, Patch, Post, Query, Req } from '@nestjs/common';
import {
  ApiAcceptedResponse,
  ApiBody,
  ApiConsumes,
  ApiCreatedResponse,
  ApiExtraModels,
  ApiNoContentResponse,
  ApiOkResponse,
  ApiOperation,
  ApiProduces,
  ApiTags,
  getSchemaPath,
} from '@nestjs/swagger';
import type { Request } from 'express';
import { Actor } from '../auth/actor.decorator';
import { AdminApi } from '../auth/admin-api.decorator';
import { RequiresPermission } from '../auth/requires-permission.decorator';
import { Audited, AuditedWhenDenied } from '../audit/audited.decorator';
import { ConcurrencyLimited } from '../common/concurrency-limit.interceptor';
import { ApiBackupNotFound, ApiError, ApiIdParam, ApiLockHeld } from '../openapi/api-error';
import { BackupImportService } from './backup-import.service';
import { BackupScrubService } from './backup-scrub.service';
import { BackupUploadService } from './backup-upload.service';
import { BackupService } from './backup.service';
import {
  BackupPageResponse,
  BackupResponse,
  BackupStatsResponse,
  CleanupPreviewResponse,
  CleanupResultResponse,
  ImportResultResponse,
  IntegrityReportResponse,
  ScrubResultResponse,
} from './dto/backup.response';
import { BackupContentsResponse } from './dto/backup-contents.response';
import { CleanupQuery } from './dto/cleanup.query';
import { DownloadQuery } from './dto/download.query';
import { CreateBackupDto } from './dto/create-backup.dto';
import { UpdateBackupDto } from './dto/update-backup.dto';
import { ListBackupsQuery } from './dto/list-backups.query';

@AdminApi()
@ApiTags('backups')
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
  @RequiresPermission('backup.create')
  @ApiOperation({ operationId: 'createBackup', summary: 'Start a backup', description: 'Takes the lock and returns the running backup; poll GET /backups/{id} until it leaves `running`.' })
  @ApiAcceptedResponse({ type: BackupResponse, description: 'Started; `status` is `running`' })
  @ApiError(400, 'The body broke a validation rule')
  @ApiLockHeld()
  @ApiError(500, 'pg_dump is missing or older than the server')
  @ApiError(507, 'The backup directory lacks the free space this backup needs')
  create(@Actor() actor: string, @Body() dto: CreateBackupDto) {
    return this.backups.create(actor, dto);
  }

  @Get()
  @AuditedWhenDenied('backup.list')
  @RequiresPermission('backups.read')
  @ApiOperation({ operationId: 'listBackups', summary: 'List backups, newest first' })
  @ApiOkResponse({ type: BackupPageResponse })
  @ApiError(400, 'A query parameter broke a validation rule')
  list(@Query() query: ListBackupsQuery) {
    return this.backups.list(query);
  }

  @Get('stats')
  @AuditedWhenDenied('backup.stats')
  @RequiresPermission('backups.read')
  @ApiOperation({ operationId: 'getBackupStats', summary: 'Counts, sizes and the latest outcomes' })
  @ApiOkResponse({ type: BackupStatsResponse })
  stats() {
    return this.backups.stats();
  }

  @Post('cleanup')
  @HttpCode(HttpStatus.OK)
  @Audited('backup.cleanup')
  @RequiresPermission('backup.cleanup')
  @ApiOperation({
    operationId: 'cleanupBackups',
    summary: 'Apply retention now, then archive',
    description: 'With `dryRun=true`, answers what would be deleted, kept (and why) and archived, and changes nothing.',
  })
  @ApiExtraModels(CleanupResultResponse, CleanupPreviewResponse)
  @ApiOkResponse({
    description: '`CleanupResultResponse`, or `CleanupPreviewResponse` with `dryRun=true`',
    schema: { oneOf: [{ $ref: getSchemaPath(CleanupResultResponse) }, { $ref: getSchemaPath(CleanupPreviewResponse) }] },
  })
  @ApiError(400, 'dryRun is not a boolean')
  @ApiLockHeld()
  cleanup(@Actor() actor: string, @Query() query: CleanupQuery) {
    return query.dryRun ? this.backups.cleanupPreview() : this.backups.cleanup(actor);
  }

  /** multipart/form-data, one field `file` named `*.dump`, `*.dump.zst`, `*.dump.gz` (optionally `.age`). */
  @Post('upload')
  @HttpCode(HttpStatus.CREATED)
  @Audited('backup.upload')
  @RequiresPermission('backup.upload')
  @ApiOperation({
    operationId: 'uploadBackup',
    summary: 'Upload a backup made elsewhere',
    description: 'One field `file` named `*.dump`, `*.dump.zst` or `*.dump.gz`, optionally ending in `.age`; listed as `type: upload` once pg_restore reads it.',
  })
  @ApiConsumes('multipart/form-data')
  @ApiBody({ schema: { type: 'object', required: ['file'], properties: { file: { type: 'string', format: 'binary' } } } })
  @ApiCreatedResponse({ type: BackupResponse, description: 'Stored and listed, `completed`' })
  @ApiError(400, 'Not multipart, no `file` field, a name of another kind, an empty file, a truncated form, or the client left')
  @ApiError(408, 'No data for the idle timeout (BACKUP_UPLOAD_IDLE_TIMEOUT_SECONDS, uploadIdleTimeoutMs; 60 s by default)')
  @ApiLockHeld()
  @ApiError(413, 'Larger than the upload limit (BACKUP_UPLOAD_MAX_MB, maxUploadBytes; 10 GiB by default)')
  @ApiError(422, 'pg_restore cannot read the file as a backup')
  @ApiError(507, 'The backup directory has less free space than BACKUP_MIN_FREE_MB or the declared size; refused before the body is read')
  upload(@Actor() actor: string, @Req() request: Request) {
    return this.uploads.upload(actor, request);
  }

  @Post('scrub')
  @HttpCode(HttpStatus.OK)
  @Audited('backup.scrub')
  @RequiresPermission('backup.verify')
  @ApiOperation({ operationId: 'scrubBackups', summary: 'Verify every completed backup in full now', description: 'Marks the backups without an intact copy `damaged`.' })
  @ApiOkResponse({ type: ScrubResultResponse })
  @ApiLockHeld()
  scrub(@Actor() actor: string) {
    return this.scrubber.scrub(actor);
  }

  @Post('import')
  @HttpCode(HttpStatus.OK)
  @Audited('backup.import')
  @RequiresPermission('backup.import')
  @ApiOperation({
    operationId: 'importBackups',
    summary: 'Rebuild the history from the backup locations',
    description: "Lists again every backup file whose manifest, size and SHA-256 agree (primary directory, external directory, S3).",
  })
  @ApiOkResponse({ type: ImportResultResponse })
  @ApiLockHeld()
  importDirectory(@Actor() actor: string) {
    return this.importer.importDirectory(actor);
  }

  @Get(':id')
  @AuditedWhenDenied('backup.get')
  @RequiresPermission('backups.read')
  @ApiOperation({ operationId: 'getBackup', summary: 'One backup' })
  @ApiOkResponse({ type: BackupResponse })
  @ApiIdParam('backup')
  @ApiBackupNotFound()
  get(@Param('id', ParseUUIDPipe) id: string) {
    return this.backups.get(id);
  }

  @Get(':id/contents')
  @AuditedWhenDenied('backup.contents')
  @RequiresPermission('backups.read')
  @ApiOperation({
    operationId: 'getBackupContents',
    summary: 'What a backup holds',
    description: "Schemas; tables with their rows and sizes at backup time; views, functions, sequences, types, extensions, large objects; the roles owning them. From the archive's table of contents, recorded when the backup was made.",
  })
  @ApiOkResponse({ type: BackupContentsResponse })
  @ApiIdParam('backup')
  @ApiBackupNotFound()
  @ApiError(409, 'The backup is not completed')
  @ApiError(422, "No intact copy of the backup is left, or its table of contents cannot be read (an encryption key this server lacks)")
  contents(@Param('id', ParseUUIDPipe) id: string) {
    return this.backups.contents(id);
  }

  /** `?part=files` downloads the files part (BACKUP_INCLUDE_PATHS) instead of the dump. */
  @Get(':id/download')
  @Audited('backup.download')
  @RequiresPermission('backup.download')
  @ApiOperation({ operationId: 'downloadBackup', summary: 'Download the backup file', description: 'The first copy whose size matches the record: archive, primary, external, S3.' })
  @ApiProduces('application/octet-stream')
  @ApiOkResponse({ schema: { type: 'string', format: 'binary' }, description: 'The file, as an attachment' })
  @ApiIdParam('backup')
  @ApiBackupNotFound()
  @ApiError(409, 'Not completed, no files part, or no intact copy left')
  @ApiError(429, 'As many downloads as allowed at once are running (BACKUP_MAX_CONCURRENT_DOWNLOADS, maxConcurrentDownloads; 4 by default)')
  @ConcurrencyLimited('download')
  download(@Param('id', ParseUUIDPipe) id: string, @Query() query: DownloadQuery) {
    return this.backups.download(id, query.part);
  }

  @Post(':id/verify')
  @HttpCode(HttpStatus.OK)
  @Audited('backup.verify')
  @RequiresPermission('backup.verify')
  @ApiOperation({
    operationId: 'verifyBackup',
    summary: 'Verify a backup in full',
    description: 'Size, SHA-256, every byte decrypted and decompressed, and the table of contents; records `verifiedAt` or `damaged`.',
  })
  @ApiOkResponse({ type: IntegrityReportResponse, description: 'The report, intact or not' })
  @ApiIdParam('backup')
  @ApiBackupNotFound()
  @ApiError(409, 'The backup is not completed')
  @ApiError(429, 'As many verifications as allowed at once are running (BACKUP_MAX_CONCURRENT_VERIFIES, maxConcurrentVerifies; 2 by default)')
  @ConcurrencyLimited('verify')
  verify(@Param('id', ParseUUIDPipe) id: string) {
    return this.backups.verify(id);
  }

  @Patch(':id')
  @Audited('backup.update')
  @RequiresPermission('backup.pin')
  @ApiOperation({ operationId: 'updateBackup', summary: 'Pin a backup, or edit its notes and tags' })
  @ApiOkResponse({ type: BackupResponse })
  @ApiIdParam('backup')
  @ApiBackupNotFound()
  update(@Param('id', ParseUUIDPipe) id: string, @Body() dto: UpdateBackupDto) {
    return this.backups.update(id, dto);
  }

  @Delete(':id')
  @HttpCode(HttpStatus.NO_CONTENT)
  @Audited('backup.delete')
  @RequiresPermission('backup.delete')
  @ApiOperation({ operationId: 'deleteBackup', summary: 'Delete a backup: every copy, its manifest and its entry' })
  @ApiNoContentResponse({ description: 'Deleted' })
  @ApiIdParam('backup')
  @ApiBackupNotFound()
  @ApiError(409, 'The backup is still running, or another operation holds the lock')
  async remove(@Actor() actor: string, @Param('id', ParseUUIDPipe) id: string): Promise<void> {
    await this.backups.remove(id, actor);
  }
}
