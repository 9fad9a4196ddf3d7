import { CallHandler, ExecutionContext, HttpException, Injectable, NestInterceptor } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Request } from 'express';
import { catchError, from, mergeMap, Observable, throwError } from 'rxjs';
import { AdminPrincipal } from '../auth/admin-principal';
import { AuditOutcome } from './audit-log.entity';
import { AUDIT_METADATA, AuditMetadata } from './audited.decorator';
import { AuditService } from './audit.service';

/** Records every audited call's outcome: success with its target, or failure with the error. */
@Injectable()
export class AuditInterceptor implements NestInterceptor {
  constructor(
    private readonly reflector: Reflector,
    private readonly audit: AuditService,
  ) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const meta = this.reflector.get<AuditMetadata | undefined>(AUDIT_METADATA, context.getHandler());
    if (!meta) return next.handle();
    const request = context.switchToHttp().getRequest<Request & { user?: AdminPrincipal }>();
    const base = {
      action: meta.action,
      actor: request.user?.sub ?? null,
      ip: request.ip ?? null,
    };
    const params = request.params as Record<string, string | undefined>;
    return next.handle().pipe(
      mergeMap((result: unknown) => {
        if (!meta.recordSuccess) return [result];
        const target = params.id ?? (result as { id?: string } | undefined)?.id ?? null;
        const detail = { method: request.method, path: request.originalUrl, body: requestBody(request) };
        return from(this.audit.record({ ...base, outcome: AuditOutcome.Success, target, detail }).then(() => result));
      }),
      catchError((error: unknown) => {
        if (!meta.recordSuccess) return throwError(() => error);
        const status = error instanceof HttpException ? error.getStatus() : 500;
        const detail = { method: request.method, path: request.originalUrl, status, error: errorMessage(error), body: requestBody(request) };
        return from(this.audit.record({ ...base, outcome: AuditOutcome.Failure, target: params.id ?? null, detail })).pipe(
          mergeMap(() => throwError(() => error)),
        );
      }),
    );
  }
}

function requestBody(request: Request): unknown {
  const body = request.body as unknown;
  return body && typeof body === 'object' && Object.keys(body).length ? body : undefined;
}

/** The message the client saw: validation reasons rather than "Bad Request Exception". */
function errorMessage(error: unknown): unknown {
  if (error instanceof HttpException) {
    const response = error.getResponse();
    return typeof response === 'object' && response && 'message' in response ? response.message : response;
  }
  return (error as Error)?.message;
}
