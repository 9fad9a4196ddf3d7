import { Module } from '@nestjs/common';
import { EventsModule } from '../events/events.module';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AuthModule } from '../auth/auth.module';
import { BackupHistory } from '../backup/backup-history.entity';
import { BackupModule } from '../backup/backup.module';
import { InfraModule } from '../infra/infra.module';
import { LockModule } from '../lock/lock.module';
import { PG_BACKUP_CONNECTION } from '../pg-backup.options';
import { RestoreHistory } from './restore-history.entity';
import { BackupTocReader } from './backup-toc';
import { DrillService } from './drill.service';
import { FilesRestoreService } from './files-restore.service';
import { RestoreRunner } from './restore-runner.service';
import { RestoreController } from './restore.controller';
import { RestoreHooksRunner } from './restore-hooks';
import { RestorePreviewService } from './restore-preview.service';
import { RestoreService } from './restore.service';
import { RolePreflight } from './role-preflight';
import { TargetDatabases } from './target-database';

@Module({
  imports: [TypeOrmModule.forFeature([RestoreHistory, BackupHistory], PG_BACKUP_CONNECTION), AuthModule, BackupModule, InfraModule, LockModule, EventsModule],
  providers: [RestoreService, RestoreRunner, RestorePreviewService, RestoreHooksRunner, BackupTocReader, FilesRestoreService, DrillService, RolePreflight, TargetDatabases],
  controllers: [RestoreController],
  exports: [DrillService, RolePreflight],
})
export class RestoreModule {}
