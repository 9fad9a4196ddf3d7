import { CanActivate, ExecutionContext, Inject, Injectable, UnauthorizedException } from '@nestjs/common';
import type { Request } from 'express';
import { createHash, timingSafeEqual } from 'node:crypto';
import { PG_BACKUP_OPTIONS, PgBackupOptions } from '../pg-backup.options';

/** Hashed first, so the comparison takes the same time whatever the lengths. */
const digest = (token: string) => createHash('sha256').update(token).digest();

/** `Authorization: Bearer <metrics.token>` when a token is configured; open otherwise. */
@Injectable()
export class MetricsTokenGuard implements CanActivate {
  private readonly expected: Buffer | null;

  constructor(@Inject(PG_BACKUP_OPTIONS) options: PgBackupOptions) {
    this.expected = options.metrics?.token ? digest(options.metrics.token) : null;
  }

  canActivate(context: ExecutionContext): boolean {
    if (!this.expected) return true;
    const header = context.switchToHttp().getRequest<Request>().headers.authorization ?? '';
    const token = /^Bearer\s+(\S+)\s*$/i.exec(header)?.[1];
    if (token === undefined || !timingSafeEqual(digest(token), this.expected)) throw new UnauthorizedException('a valid metrics token is required');
    return true;
  }
}
