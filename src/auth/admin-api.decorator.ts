import { applyDecorators, UseGuards, UseInterceptors, UsePipes, ValidationPipe } from '@nestjs/common';
import { ApiBearerAuth } from '@nestjs/swagger';
import { AuditInterceptor } from '../audit/audit.interceptor';
import { SafeInputPipe } from '../common/safe-input.pipe';
import { ApiAdminErrors } from '../openapi/api-error';
import { AdminGuard } from './admin.guard';

/**
 * The one decorator every admin controller carries: JWT admin guard, audit, strict validation,
 * and the same in the OpenAPI document (bearer auth, 401, 403).
 */
export const AdminApi = () =>
  applyDecorators(
    UseGuards(AdminGuard),
    UseInterceptors(AuditInterceptor),
    UsePipes(new SafeInputPipe()),
    UsePipes(new ValidationPipe({ whitelist: true, forbidNonWhitelisted: true, transform: true })),
    ApiBearerAuth(),
    ApiAdminErrors(),
  );
