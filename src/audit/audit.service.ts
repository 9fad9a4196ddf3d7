import { Injectable, Logger } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { Repository } from 'typeorm';
import { whereDefined } from '../database/where';
import { PG_BACKUP_CONNECTION } from '../pg-backup.options';
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

const SECRET_KEY = /pass|secret|token|key|authorization|identity/i;

@Injectable()
export class AuditService {
  private readonly logger = new Logger(AuditService.name);

  constructor(@InjectRepository(AuditLog, PG_BACKUP_CONNECTION) private readonly entries: Repository<AuditLog>) {}

  /** Writes an entry; a failure is logged and swallowed, so auditing never breaks the call it records. */
  async record(entry: AuditRecord): Promise<void> {
    try {
      await this.entries.insert({
        action: entry.action,
        actor: entry.actor,
        outcome: entry.outcome,
        target: entry.target ?? null,
        ip: entry.ip ?? null,
        detail: (entry.detail ? maskSecrets(entry.detail) : null) as AuditLog["detail"] & object,
      });
    } catch (error) {
      this.logger.error(`audit entry ${entry.action}/${entry.outcome} by ${entry.actor ?? 'anonymous'} not written: ${(error as Error).message}`);
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
}

function maskSecrets(value: Record<string, unknown>): Record<string, unknown> {
  return JSON.parse(JSON.stringify(value, (key, v) => (key && SECRET_KEY.test(key) && v !== null && typeof v !== 'object' ? '***' : v)));
}
