import { ExecutionContext, ForbiddenException, Inject, Injectable, UnauthorizedException } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { AuthGuard } from '@nestjs/passport';
import type { Request } from 'express';
import { AUDIT_METADATA, AuditMetadata } from '../audit/audited.decorator';
import { AuditService, RefusalRecord } from '../audit/audit.service';
import { PG_BACKUP_OPTIONS, PgBackupOptions } from '../pg-backup.options';
import { AdminPrincipal } from './admin-principal';
import { PG_BACKUP_JWT_STRATEGY } from './jwt.strategy';
import { accessLevel, grants, Permission, PERMISSION_LEVELS } from './permissions';
import { PERMISSION_METADATA } from './requires-permission.decorator';

type AuthRequest = Request & { user?: AdminPrincipal; authFailure?: string };

/**
 * A valid token (401 otherwise) whose roles reach the level of the route's permission (403
 * otherwise; admin for a route that declares none); every refusal is audited.
 */
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
    const level = accessLevel(principal, this.options.auth);
    if (!level) {
      await this.recordDenied(context, principal.sub, `no admin, operator or viewer role (roles: ${principal.roles.join(', ') || 'none'})`);
      throw new ForbiddenException('the token carries no admin, operator or viewer role');
    }
    const permission = this.reflector.getAllAndOverride<Permission | undefined>(PERMISSION_METADATA, [context.getHandler(), context.getClass()]);
    const needed = permission ? PERMISSION_LEVELS[permission] : 'admin';
    if (!grants(level, needed)) {
      const reason = `${permission ?? 'this route'} needs the ${needed} role; the token's is ${level}`;
      await this.recordDenied(context, principal.sub, reason);
      throw new ForbiddenException(reason);
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
