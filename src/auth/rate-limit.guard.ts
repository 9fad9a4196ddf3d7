import { ExecutionContext, Inject, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { normalizeIp, ThrottlerException, ThrottlerGuard, ThrottlerLimitDetail, ThrottlerOptions, ThrottlerStorageService } from '@nestjs/throttler';
import type { Request } from 'express';
import { createHash } from 'node:crypto';
import { AUDIT_METADATA, AuditMetadata } from '../audit/audited.decorator';
import { AuditService } from '../audit/audit.service';
import { PG_BACKUP_OPTIONS, PgBackupOptions, RateLimitOptions } from '../pg-backup.options';
import { AdminPrincipal } from './admin-principal';
import { refusal } from './admin.guard';

/** The admin API's own hit counts (apart from any ThrottlerModule of the host app), shared by both guards. */
export const ADMIN_THROTTLER_STORAGE = 'PG_BACKUP:THROTTLER_STORAGE';

export const DEFAULT_RATE_LIMITS: Required<RateLimitOptions> = { perTokenPerMinute: 1200, perAddressPerMinute: 2400, backupsPerUserPerHour: 60 };

/** The configured limit, or its default when unset. */
const limitOf = (options: PgBackupOptions, name: keyof RateLimitOptions) => options.rateLimit?.[name] ?? DEFAULT_RATE_LIMITS[name];

type AdminRequest = Request & { user?: AdminPrincipal };

const address = (req: Record<string, any>) => `address:${normalizeIp((req as AdminRequest).ip ?? '')}`;

/** The bearer token's hash; the address for a request without one. */
function bearer(req: Record<string, any>): string {
  const token = /^Bearer\s+(\S+)/i.exec((req as AdminRequest).headers.authorization ?? '')?.[1];
  return token ? `token:${createHash('sha256').update(token).digest('base64url')}` : address(req);
}

/**
 * @nestjs/throttler with the module's options: one count per tracker across the whole admin API
 * (not per route), no X-RateLimit headers, a standard Retry-After, and every 429 audited as a refusal.
 */
abstract class AdminThrottlerGuard extends ThrottlerGuard {
  private readonly active: boolean;

  constructor(
    throttlers: ThrottlerOptions[],
    storage: ThrottlerStorageService,
    reflector: Reflector,
    private readonly audit: AuditService,
  ) {
    super({ throttlers, setHeaders: false }, storage, reflector);
    this.active = throttlers.length > 0;
  }

  override async onModuleInit(): Promise<void> {
    if (this.active) await super.onModuleInit();
  }

  protected override async shouldSkip(): Promise<boolean> {
    return !this.active;
  }

  protected override generateKey(_context: ExecutionContext, tracker: string, name: string): string {
    return `${name}:${tracker}`;
  }

  protected override async throwThrottlingException(context: ExecutionContext, detail: ThrottlerLimitDetail): Promise<void> {
    const request = context.switchToHttp().getRequest<AdminRequest>();
    context.switchToHttp().getResponse<import('express').Response>().setHeader('Retry-After', String(Math.max(detail.timeToBlockExpire, 1)));
    const limit = `${detail.limit} per ${detail.ttl >= 3_600_000 ? `${detail.ttl / 3_600_000} h` : `${detail.ttl / 60_000} min`}`;
    await this.audit.recordDenied(refusal(context, this.reflector, request.user?.sub ?? null, `rate limit exceeded (${limit})`));
    throw new ThrottlerException(`too many requests: at most ${limit}; retry in ${Math.max(detail.timeToBlockExpire, 1)} s`);
  }
}

/** Before the token is checked: per address, then per token, so a flood is refused before it costs a verification. */
@Injectable()
export class AdminRateLimitGuard extends AdminThrottlerGuard {
  constructor(
    @Inject(PG_BACKUP_OPTIONS) options: PgBackupOptions,
    @Inject(ADMIN_THROTTLER_STORAGE) storage: ThrottlerStorageService,
    reflector: Reflector,
    audit: AuditService,
  ) {
    const throttlers: ThrottlerOptions[] = [
      { name: 'address', ttl: 60_000, limit: limitOf(options, 'perAddressPerMinute'), getTracker: address },
      { name: 'token', ttl: 60_000, limit: limitOf(options, 'perTokenPerMinute'), getTracker: bearer },
    ];
    super(throttlers.filter((t) => t.limit), storage, reflector, audit);
  }
}

/** After the token is checked: backups started per user (the verified `sub`) and hour. */
@Injectable()
export class BackupRateLimitGuard extends AdminThrottlerGuard {
  constructor(
    @Inject(PG_BACKUP_OPTIONS) options: PgBackupOptions,
    @Inject(ADMIN_THROTTLER_STORAGE) storage: ThrottlerStorageService,
    reflector: Reflector,
    audit: AuditService,
  ) {
    const createsBackup = (context: ExecutionContext) =>
      reflector.get<AuditMetadata | undefined>(AUDIT_METADATA, context.getHandler())?.action === 'backup.create';
    const throttlers: ThrottlerOptions[] = [
      {
        name: 'backups',
        ttl: 3_600_000,
        limit: limitOf(options, 'backupsPerUserPerHour'),
        skipIf: (context) => !createsBackup(context),
        getTracker: (req) => `user:${(req as AdminRequest).user?.sub ?? 'unknown'}`,
      },
    ];
    super(throttlers.filter((t) => t.limit), storage, reflector, audit);
  }
}
