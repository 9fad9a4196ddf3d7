import { ExecutionContext, ForbiddenException, Inject, Injectable, UnauthorizedException } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { AuthGuard } from '@nestjs/passport';
import type { Request } from 'express';
import { AUDIT_METADATA, AuditMetadata } from '../audit/audited.decorator';
import { AuditService, RefusalRecord } from '../audit/audit.service';
import { PG_BACKUP_OPTIONS, PgBackupOptions } from '../pg-backup.options';
import { AdminPrincipal, isAdmin } from './admin-principal';
import { PG_BACKUP_JWT_STRATEGY } from './jwt.strategy';

type AuthRequest = Request & { user?: AdminPrincipal; authFailure?: string };

/** A valid token (401 otherwise) carrying an admin role (403 otherwise); every refusal is audited. */
@Injectable()
export class AdminGuard extends AuthGuard(PG_BACKUP_JWT_STRATEGY) {
  constructor(
    @Inject(PG_BACKUP_OPTIONS) private readonly options: PgBackupOptions,
    private readonly reflector: Reflector,
    private readonly audit: AuditService,
  ) {
    super();
  }

  override async canActivate(context: ExecutionContext): Promise<boolean> {
    const request = context.switchToHttp().getRequest<AuthRequest>();
    try {
      await super.canActivate(context);
    } catch (error) {
      await this.recordDenied(context, null, request.authFailure ?? (error as Error).message);
      throw error;
    }
    const principal = request.user!;
    if (!isAdmin(principal, this.options.auth.adminRoles)) {
      await this.recordDenied(context, principal.sub, `no admin role (roles: ${principal.roles.join(', ') || 'none'})`);
      throw new ForbiddenException('an admin role is required');
    }
    return true;
  }

  override handleRequest<T>(error: unknown, user: T, info: unknown, context: ExecutionContext): T {
    if (error || !user) {
      const reason = error instanceof Error ? error.message : info instanceof Error ? info.message : 'no valid bearer token';
      context.switchToHttp().getRequest<AuthRequest>().authFailure = reason;
      throw new UnauthorizedException(reason === 'No auth token' ? 'a bearer token is required' : 'invalid or expired token');
    }
    return user;
  }

  private recordDenied(context: ExecutionContext, actor: string | null, reason: string): Promise<void> {
    return this.audit.recordDenied(refusal(context, this.reflector, actor, reason));
  }
}

/** The audit record of a refused admin call: the route's audited action, or its method and route. */
export function refusal(context: ExecutionContext, reflector: Reflector, actor: string | null, reason: string): RefusalRecord {
  const request = context.switchToHttp().getRequest<AuthRequest>();
  const meta = reflector.get<AuditMetadata | undefined>(AUDIT_METADATA, context.getHandler());
  return {
    action: meta?.action ?? `${request.method} ${request.route?.path ?? request.path}`,
    actor,
    target: (request.params as Record<string, string | undefined>).id ?? null,
    ip: request.ip ?? null,
    reason,
    detail: { method: request.method, path: request.originalUrl },
  };
}
