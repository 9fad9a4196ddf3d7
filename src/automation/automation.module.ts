import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { BackupModule } from '../backup/backup.module';
import { SignalsModule } from '../database/signals.module';
import { EventsModule } from '../events/events.module';
import { PG_BACKUP_CONNECTION } from '../pg-backup.options';
import { RestoreModule } from '../restore/restore.module';
import { SettingsModule } from '../settings/settings.module';
import { BackupScheduler } from './backup-scheduler';
import { BackupTrigger } from './backup-trigger';
import { ScheduleTick } from './schedule-tick.entity';
import { ScheduleTickRepository } from './schedule-tick.repository';

/** What runs without an admin pressing a button: schedules, drills on schedule, startup and event backups. */
@Module({
  imports: [TypeOrmModule.forFeature([ScheduleTick], PG_BACKUP_CONNECTION), BackupModule, RestoreModule, SettingsModule, EventsModule, SignalsModule],
  providers: [BackupScheduler, BackupTrigger, ScheduleTickRepository],
  exports: [BackupTrigger],
})
export class AutomationModule {}
