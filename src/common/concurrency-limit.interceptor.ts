import { applyDecorators, CallHandler, ExecutionContext, HttpException, HttpStatus, Inject, Injectable, NestInterceptor, SetMetadata, UseInterceptors } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { ServerResponse } from 'node:http';
import { Observable } from 'rxjs';
import { PG_BACKUP_OPTIONS, PgBackupOptions } from '../pg-backup.options';

type LimitedKind = 'download' | 'verify';

const LIMITED = 'pg-backup:concurrency-limited';
const DEFAULT_LIMITS: Record<LimitedKind, number> = { download: 4, verify: 2 };

/** At most `maxConcurrentDownloads`/`maxConcurrentVerifies` of these at once in this process; 429 beyond. */
export const ConcurrencyLimited = (kind: LimitedKind) => applyDecorators(SetMetadata(LIMITED, kind), UseInterceptors(ConcurrencyLimitInterceptor));

/** Counts a request from its start until its response closes (a download's last byte, or the client leaving). */
@Injectable()
export class ConcurrencyLimitInterceptor implements NestInterceptor {
  private readonly active = new Map<LimitedKind, number>();

  constructor(
    @Inject(PG_BACKUP_OPTIONS) private readonly options: PgBackupOptions,
    private readonly reflector: Reflector,
  ) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const kind = this.reflector.get<LimitedKind | undefined>(LIMITED, context.getHandler());
    if (!kind) return next.handle();
    const limit = (kind === 'download' ? this.options.maxConcurrentDownloads : this.options.maxConcurrentVerifies) ?? DEFAULT_LIMITS[kind];
    const running = this.active.get(kind) ?? 0;
    if (running >= limit) {
      throw new HttpException(
        { statusCode: HttpStatus.TOO_MANY_REQUESTS, message: `${running} ${kind}s are running, the most allowed at once; try again when one has finished`, error: 'Too Many Requests' },
        HttpStatus.TOO_MANY_REQUESTS,
      );
    }
    this.active.set(kind, running + 1);
    const response = context.switchToHttp().getResponse<ServerResponse>();
    response.once('close', () => this.active.set(kind, (this.active.get(kind) ?? 1) - 1));
    return next.handle();
  }
}
