import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { BackupHistory } from '../backup/backup-history.entity';
import { EventsModule } from '../events/events.module';
import { BackupStatsRepository } from '../health/backup-stats.repository';
import { LockModule } from '../lock/lock.module';
import { PG_BACKUP_CONNECTION } from '../pg-backup.options';
import { MetricsTokenGuard } from './metrics-token.guard';
import { MetricsController } from './metrics.controller';
import { MetricsService } from './metrics.service';

/** The Prometheus endpoint, mounted by PgBackupModule at `metricsPath`. */
@Module({
  imports: [TypeOrmModule.forFeature([BackupHistory], PG_BACKUP_CONNECTION), EventsModule, LockModule],
  controllers: [MetricsController],
  providers: [MetricsService, MetricsTokenGuard, BackupStatsRepository],
})
export class MetricsModule {}
