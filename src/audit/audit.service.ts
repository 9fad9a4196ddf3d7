import { Inject, Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { createHash } from 'node:crypto';
import { Repository } from 'typeorm';
import { whereDefined } from '../database/where';
import { PG_BACKUP_CONNECTION, PG_BACKUP_OPTIONS, PgBackupOptions } from '../pg-backup.options';
import { boundedDetail, boundedText } from './audit-bounds';
import { AuditLog, AuditOutcome } from './audit-log.entity';
import { ListAuditQuery } from './dto/list-audit.query';

export interface AuditRecord {
  action: string;
  actor: string | null;
  outcome: AuditOutcome;
  target?: string | null;
  ip?: string | null;
  detail?: Record<string, unknown> | null;
}

/** A refused call (401, 403, 429): `reason` is kept in the detail and tells refusals apart when they coalesce. */
export interface RefusalRecord {
  action: string;
  actor: string | null;
  target?: string | null;
  ip?: string | null;
  reason: string;
  detail: Record<string, unknown>;
}

const SECRET_KEY = /pass|secret|token|key|authorization|identity/i;
export const DEFAULT_AUDIT_RETENTION_DAYS = 365;
const PRUNE_EVERY_MS = 60 * 60 * 1000;
const PRUNE_BATCH = 1000;

@Injectable()
export class AuditService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(AuditService.name);
  private timer?: NodeJS.Timeout;

  constructor(
    @InjectRepository(AuditLog, PG_BACKUP_CONNECTION) private readonly entries: Repository<AuditLog>,
    @Inject(PG_BACKUP_OPTIONS) private readonly options: PgBackupOptions,
  ) {}

  onApplicationBootstrap(): void {
    if (this.options.runSchedules === false || !this.retentionDays()) return; // the CLI leaves pruning to the servers
    const prune = () => void this.prune().catch((error: Error) => this.logger.warn(`audit retention: ${error.message}`));
    this.timer = setInterval(prune, PRUNE_EVERY_MS);
    this.timer.unref();
    prune();
  }

  onApplicationShutdown(): void {
    clearInterval(this.timer);
  }

  /** Writes an entry; a failure is logged and swallowed, so auditing never breaks the call it records. */
  async record(entry: AuditRecord): Promise<void> {
    try {
      await this.entries.insert({
        ...this.columns(entry),
        outcome: entry.outcome,
        detail: (entry.detail ? maskSecrets(boundedDetail(entry.detail)) : null) as AuditLog['detail'] & object,
      });
    } catch (error) {
      this.logger.error(`audit entry ${entry.action}/${entry.outcome} by ${entry.actor ?? 'anonymous'} not written: ${(error as Error).message}`);
    }
  }

  /**
   * A refusal, coalesced: the refusals of one address, actor, action and reason within a minute
   * are one entry whose `count` grows, so a flood of refused calls adds a row a minute, not a row a call.
   * `failure` for a request refused before any route ran (its sender unknown), `denied` otherwise.
   */
  async recordDenied(entry: RefusalRecord, now = new Date(), outcome: AuditOutcome.Denied | AuditOutcome.Failure = AuditOutcome.Denied): Promise<void> {
    const columns = this.columns(entry);
    const reason = boundedText(entry.reason, 256);
    const minute = Math.floor(now.getTime() / 60_000);
    // the reason's variable parts (quoted values, numbers) do not make a new entry
    const kind = reason.replace(/(['"]).*?\1/g, '…').replace(/\d+/g, '#');
    const key = createHash('sha256').update(JSON.stringify([minute, columns.ip, columns.actor, columns.action, outcome, kind])).digest('base64url');
    const detail = maskSecrets(boundedDetail({ ...entry.detail, reason }));
    try {
      await this.entries.query(
        `INSERT INTO ${this.table()} AS a (action, actor, outcome, target, ip, detail, coalesce_key)
         VALUES ($1, $2, $3, $4, $5, $6, $7)
         ON CONFLICT (coalesce_key) WHERE coalesce_key IS NOT NULL DO UPDATE SET count = a.count + 1`,
        [columns.action, columns.actor, outcome, columns.target, columns.ip, JSON.stringify(detail), key],
      );
    } catch (error) {
      this.logger.error(`audit entry ${entry.action}/${outcome} by ${entry.actor ?? 'anonymous'} not written: ${(error as Error).message}`);
    }
  }

  /** Deletes entries older than the retention, in batches so no statement holds many rows; returns how many. */
  async prune(now = new Date()): Promise<number> {
    const days = this.retentionDays();
    if (!days) return 0;
    const cutoff = new Date(now.getTime() - days * 86_400_000);
    let deleted = 0;
    for (;;) {
      const [{ n }] = (await this.entries.query(
        `WITH gone AS (DELETE FROM ${this.table()} WHERE id IN (SELECT id FROM ${this.table()} WHERE created_at < $1 LIMIT ${PRUNE_BATCH}) RETURNING 1)
         SELECT count(*)::int AS n FROM gone`,
        [cutoff],
      )) as [{ n: number }];
      deleted += n;
      if (n < PRUNE_BATCH) return deleted;
    }
  }

  async list(query: ListAuditQuery): Promise<{ items: AuditLog[]; total: number }> {
    const [items, total] = await this.entries.findAndCount({
      where: whereDefined({ action: query.action, actor: query.actor, outcome: query.outcome }),
      order: { createdAt: 'DESC', id: 'DESC' },
      take: query.limit,
      skip: query.offset,
    });
    return { items, total };
  }

  private retentionDays(): number {
    return this.options.audit?.retentionDays ?? DEFAULT_AUDIT_RETENTION_DAYS;
  }

  /** The text columns, bounded like the detail (the target and the address can come from anyone). */
  private columns(entry: Pick<AuditRecord, 'action' | 'actor' | 'target' | 'ip'>) {
    return {
      action: boundedText(entry.action, 200),
      actor: entry.actor === null ? null : boundedText(entry.actor, 200),
      target: entry.target ? boundedText(entry.target, 200) : null,
      ip: entry.ip ? boundedText(entry.ip, 64) : null,
    };
  }

  private table(): string {
    const { schema, tableName } = this.entries.metadata;
    const escape = (name: string) => `"${name.replace(/"/g, '""')}"`;
    return schema ? `${escape(schema)}.${escape(tableName)}` : escape(tableName);
  }
}

function maskSecrets(value: Record<string, unknown>): Record<string, unknown> {
  return JSON.parse(JSON.stringify(value, (key, v) => (key && SECRET_KEY.test(key) && v !== null && typeof v !== 'object' ? '***' : v)));
}
