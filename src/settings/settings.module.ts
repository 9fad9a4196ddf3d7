import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AuthModule } from '../auth/auth.module';
import { SignalsModule } from '../database/signals.module';
import { PG_BACKUP_CONNECTION } from '../pg-backup.options';
import { ScheduleTick } from '../automation/schedule-tick.entity';
import { BackupConfigRow } from './backup-config.entity';
import { SettingsController } from './settings.controller';
import { SettingsService } from './settings.service';

@Module({
  imports: [TypeOrmModule.forFeature([BackupConfigRow, ScheduleTick], PG_BACKUP_CONNECTION), AuthModule, SignalsModule],
  providers: [SettingsService],
  controllers: [SettingsController],
  exports: [SettingsService],
})
export class SettingsModule {}
