import { applyDecorators, UseGuards, UseInterceptors, UsePipes, ValidationPipe } from '@nestjs/common';
import { ApiBearerAuth } from '@nestjs/swagger';
import { AuditInterceptor } from '../audit/audit.interceptor';
import { SafeInputPipe } from '../common/safe-input.pipe';
import { ApiAdminErrors, ApiError } from '../openapi/api-error';
import { AdminGuard } from './admin.guard';
import { AdminRateLimitGuard, BackupRateLimitGuard } from './rate-limit.guard';

/**
 * The one decorator every admin controller carries: rate limits around the JWT admin guard, audit,
 * strict validation, and the same in the OpenAPI document (bearer auth, 401, 403, 429).
 */
export const AdminApi = () =>
  applyDecorators(
    UseGuards(AdminRateLimitGuard, AdminGuard, BackupRateLimitGuard),
    UseInterceptors(AuditInterceptor),
    UsePipes(new SafeInputPipe()),
    UsePipes(new ValidationPipe({ whitelist: true, forbidNonWhitelisted: true, transform: true })),
    ApiBearerAuth(),
    ApiAdminErrors(),
    ApiError(429, 'Too many requests from this token or address (or backups by this user); Retry-After says when to try again'),
  );
