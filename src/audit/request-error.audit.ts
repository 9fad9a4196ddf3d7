import { Inject, Injectable, OnModuleInit } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { Application, NextFunction, Request, Response } from 'express';
import { PG_BACKUP_ADMIN_PATH } from '../pg-backup.options';
import { AuditOutcome } from './audit-log.entity';
import { AuditService } from './audit.service';

/** The action of a request Express refused before any admin route ran. */
export const REQUEST_REJECTED = 'request.rejected';

/**
 * Express refuses some admin requests before a route, guard or interceptor runs: a body that is
 * not JSON or is too large, a path that does not decode. They are audited too, as failures
 * without an actor (no token was checked), coalesced like refusals.
 */
@Injectable()
export class RequestErrorAudit implements OnModuleInit {
  constructor(
    private readonly adapterHost: HttpAdapterHost,
    private readonly audit: AuditService,
    @Inject(PG_BACKUP_ADMIN_PATH) private readonly adminPath: string,
  ) {}

  /** Runs after the routes are registered and before Nest's own error handler: an error middleware between them. */
  onModuleInit(): void {
    const adapter = this.adapterHost.httpAdapter;
    if (adapter?.getType() !== 'express') return; // the CLI has no HTTP; other adapters are not covered
    const prefix = `/${this.adminPath.replace(/^\/+|\/+$/g, '')}`;
    const isAdmin = (path: string) => path === prefix || path.startsWith(`${prefix}/`) || path.includes(`${prefix}/`);
    (adapter.getInstance() as Application).use((error: unknown, request: Request, _response: Response, next: NextFunction) => {
      if (!isAdmin(request.path)) return next(error);
      const status = (error as { status?: unknown }).status;
      const reason = error instanceof Error ? error.message : String(error);
      const detail = { method: request.method, path: request.originalUrl, status: typeof status === 'number' ? status : undefined, error: reason };
      void this.audit
        .recordDenied({ action: REQUEST_REJECTED, actor: null, ip: request.ip ?? null, reason, detail }, new Date(), AuditOutcome.Failure)
        .finally(() => next(error));
    });
  }
}
