import { applyDecorators, UseGuards, UseInterceptors, UsePipes, ValidationPipe } from '@nestjs/common';
import { AuditInterceptor } from '../audit/audit.interceptor';
import { AdminGuard } from './admin.guard';

/** The one decorator every admin controller carries: JWT admin guard, audit, strict validation. */
export const AdminApi = () =>
  applyDecorators(
    UseGuards(AdminGuard),
    UseInterceptors(AuditInterceptor),
    UsePipes(new ValidationPipe({ whitelist: true, forbidNonWhitelisted: true, transform: true })),
  );
