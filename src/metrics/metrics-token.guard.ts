import { CanActivate, ExecutionContext, ForbiddenException, Inject, Injectable, UnauthorizedException } from '@nestjs/common';
import type { Request } from 'express';
import { createHash, timingSafeEqual } from 'node:crypto';
import { PG_BACKUP_OPTIONS, PgBackupOptions } from '../pg-backup.options';

/** Hashed first, so the comparison takes the same time whatever the lengths. */
const digest = (token: string) => createHash('sha256').update(token).digest();

/** 127.0.0.0/8 and ::1, also as IPv4-mapped IPv6. */
export function isLoopback(address: string | undefined): boolean {
  if (!address) return false;
  const v4 = address.startsWith('::ffff:') ? address.slice(7) : address;
  return v4 === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(v4);
}

/**
 * `Authorization: Bearer <metrics.token>` when a token is configured; without one, loopback
 * peers only (the socket's address, never a forwarded header) unless `metrics.public` is set.
 */
@Injectable()
export class MetricsTokenGuard implements CanActivate {
  private readonly expected: Buffer | null;
  private readonly open: boolean;

  constructor(@Inject(PG_BACKUP_OPTIONS) options: PgBackupOptions) {
    this.expected = options.metrics?.token ? digest(options.metrics.token) : null;
    this.open = options.metrics?.public === true;
  }

  canActivate(context: ExecutionContext): boolean {
    const request = context.switchToHttp().getRequest<Request>();
    if (!this.expected) {
      if (this.open || isLoopback(request.socket.remoteAddress)) return true;
      throw new ForbiddenException('metrics are served to this machine only: configure a metrics token (METRICS_TOKEN) or make them public (METRICS_PUBLIC=true)');
    }
    const header = request.headers.authorization ?? '';
    const token = /^Bearer\s+(\S+)\s*$/i.exec(header)?.[1];
    if (token === undefined || !timingSafeEqual(digest(token), this.expected)) throw new UnauthorizedException('a valid metrics token is required');
    return true;
  }
}
