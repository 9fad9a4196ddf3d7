import { Controller, Get, Inject } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { InjectDataSource } from '@nestjs/typeorm';
import { HealthCheck, HealthCheckResult, HealthCheckService, HealthIndicatorFunction, TypeOrmHealthIndicator } from '@nestjs/terminus';
import { DataSource } from 'typeorm';
import { PG_BACKUP_CONNECTION, PG_BACKUP_OPTIONS, PgBackupOptions } from '../pg-backup.options';
import { BackupAgeHealthIndicator } from './backup-age.health';
import { BackupDirHealthIndicator } from './backup-dir.health';
import { DrillHealthIndicator } from './drill.health';
import { CHECK_TIMEOUT_MS, DEFAULT_READY_CACHE_MS } from './health.constants';

/** Probes for orchestrators: public, outside the admin prefix, no secrets in the answers. */
@ApiTags('health')
@Controller()
export class HealthController {
  /** The last readiness answer (200 or 503) and when its checks started; overlapping calls share one run. */
  private ready$: { at: number; answer: Promise<HealthCheckResult> } | null = null;

  constructor(
    private readonly health: HealthCheckService,
    private readonly db: TypeOrmHealthIndicator,
    private readonly backupDir: BackupDirHealthIndicator,
    private readonly backupAge: BackupAgeHealthIndicator,
    private readonly drill: DrillHealthIndicator,
    @InjectDataSource(PG_BACKUP_CONNECTION) private readonly dataSource: DataSource,
    @Inject(PG_BACKUP_OPTIONS) private readonly options: PgBackupOptions,
  ) {}

  /** The process answers. */
  @Get('live')
  @HealthCheck()
  @ApiOperation({ operationId: 'healthLive', summary: 'Liveness: the process answers' })
  live() {
    return this.health.check([]);
  }

  /** 503 when any check is down. The answer is reused for `health.readyCacheMs`: anyone may call this, and each run writes a file and queries the database. */
  @Get('ready')
  @HealthCheck()
  @ApiOperation({
    operationId: 'healthReady',
    summary: 'Readiness: database, backup directory, last drill (and backup age, when configured)',
    description: '503 when any check is down. The checks run at most once every few seconds (HEALTH_READY_CACHE_SECONDS); calls in between get the same answer.',
  })
  ready(): Promise<HealthCheckResult> {
    const now = Date.now();
    const ttl = this.options.health?.readyCacheMs ?? DEFAULT_READY_CACHE_MS;
    if (!this.ready$ || now - this.ready$.at >= ttl) {
      const answer = this.check();
      answer.catch(() => undefined); // a 503 is handled by each caller; kept here only to be handed out again
      this.ready$ = { at: now, answer };
    }
    return this.ready$.answer;
  }

  private check(): Promise<HealthCheckResult> {
    const maxAgeHours = this.options.health?.maxBackupAgeHours;
    const checks: HealthIndicatorFunction[] = [
      this.db.pingCheck('database', { connection: this.dataSource }).withTimeout(CHECK_TIMEOUT_MS),
      this.backupDir.isWritable('backup_dir'),
      this.drill.lastDrillOk('last_drill'),
    ];
    if (maxAgeHours !== undefined) checks.push(this.backupAge.isRecent('last_backup', maxAgeHours));
    return this.health.check(checks);
  }
}
