import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { IsNull, Not, Repository } from 'typeorm';
import { BackupHistory } from '../backup/backup-history.entity';
import { BackupStatus, DrillResult } from '../backup/backup.types';
import { PG_BACKUP_CONNECTION } from '../pg-backup.options';

export interface StoredBackups {
  /** History rows per status. */
  count: Record<BackupStatus, number>;
  /** Total size of the completed backups. */
  completedBytes: number;
}

/** The history reads behind `ready` and the metrics gauges: shared by every replica, so all report the same. */
@Injectable()
export class BackupStatsRepository {
  constructor(@InjectRepository(BackupHistory, PG_BACKUP_CONNECTION) private readonly backups: Repository<BackupHistory>) {}

  /** When the newest completed backup finished. */
  async lastSuccessAt(): Promise<Date | null> {
    const row = await this.backups.findOne({
      where: { status: BackupStatus.Completed, finishedAt: Not(IsNull()) },
      order: { finishedAt: 'DESC' },
      select: { id: true, finishedAt: true },
    });
    return row?.finishedAt ?? null;
  }

  /** The drill recorded on the newest backup that has one. */
  async lastDrill(): Promise<DrillResult | null> {
    const row = await this.backups.findOne({ where: { drill: Not(IsNull()) }, order: { createdAt: 'DESC' }, select: { id: true, drill: true } });
    return row?.drill ?? null;
  }

  async stored(): Promise<StoredBackups> {
    const rows: { status: BackupStatus; count: string; bytes: string }[] = await this.backups
      .createQueryBuilder('b')
      .select('b.status', 'status')
      .addSelect('count(*)', 'count')
      .addSelect('coalesce(sum(b.size_bytes), 0)', 'bytes')
      .groupBy('b.status')
      .getRawMany();
    const stored: StoredBackups = { count: { running: 0, completed: 0, failed: 0 }, completedBytes: 0 };
    for (const row of rows) {
      stored.count[row.status] = Number(row.count);
      if (row.status === BackupStatus.Completed) stored.completedBytes = Number(row.bytes);
    }
    return stored;
  }
}
