import { Module } from '@nestjs/common';
import { EventsModule } from '../events/events.module';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AuthModule } from '../auth/auth.module';
import { InfraModule } from '../infra/infra.module';
import { LockModule } from '../lock/lock.module';
import { PG_BACKUP_CONNECTION } from '../pg-backup.options';
import { SettingsModule } from '../settings/settings.module';
import { BackupHistory } from './backup-history.entity';
import { BackupArchiveService } from './backup-archive.service';
import { BackupImportService } from './backup-import.service';
import { BackupScrubService } from './backup-scrub.service';
import { BackupLocations } from './backup-locations';
import { BackupUploadService } from './backup-upload.service';
import { BackupIntegrityService } from './backup-integrity.service';
import { BackupRunner } from './backup-runner.service';
import { BackupController } from './backup.controller';
import { BackupService } from './backup.service';

@Module({
  imports: [TypeOrmModule.forFeature([BackupHistory], PG_BACKUP_CONNECTION), AuthModule, InfraModule, LockModule, SettingsModule, EventsModule],
  providers: [BackupService, BackupRunner, BackupIntegrityService, BackupImportService, BackupUploadService, BackupLocations, BackupArchiveService, BackupScrubService],
  controllers: [BackupController],
  exports: [BackupService, BackupIntegrityService],
})
export class BackupModule {}
