import { Module } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { TypeOrmModule } from '@nestjs/typeorm';
import { BackupHistory } from '../backup/backup-history.entity';
import { InfraModule } from '../infra/infra.module';
import { PG_BACKUP_CONNECTION } from '../pg-backup.options';
import { BackupAgeHealthIndicator } from './backup-age.health';
import { BackupDirHealthIndicator } from './backup-dir.health';
import { BackupStatsRepository } from './backup-stats.repository';
import { DrillHealthIndicator } from './drill.health';
import { HealthController } from './health.controller';

/** `live` and `ready`, mounted by PgBackupModule at `healthPath`. */
@Module({
  imports: [TerminusModule.forRoot(), TypeOrmModule.forFeature([BackupHistory], PG_BACKUP_CONNECTION), InfraModule],
  controllers: [HealthController],
  providers: [BackupStatsRepository, BackupDirHealthIndicator, BackupAgeHealthIndicator, DrillHealthIndicator],
})
export class HealthModule {}
