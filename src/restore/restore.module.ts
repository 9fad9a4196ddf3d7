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
import { DrillService } from './drill.service';
import { FilesRestoreService } from './files-restore.service';
import { RestoreRunner } from './restore-runner.service';
import { RestoreController } from './restore.controller';
import { RestoreService } from './restore.service';
import { TargetDatabases } from './target-database';

@Module({
  imports: [TypeOrmModule.forFeature([RestoreHistory, BackupHistory], PG_BACKUP_CONNECTION), AuthModule, BackupModule, InfraModule, LockModule, EventsModule],
  providers: [RestoreService, RestoreRunner, FilesRestoreService, DrillService, TargetDatabases],
  controllers: [RestoreController],
  exports: [DrillService],
})
export class RestoreModule {}
