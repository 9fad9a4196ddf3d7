import { Module } from '@nestjs/common';
import { PassportModule } from '@nestjs/passport';
import { ThrottlerStorageService } from '@nestjs/throttler';
import { AuditModule } from '../audit/audit.module';
import { AdminGuard } from './admin.guard';
import { JwtStrategy } from './jwt.strategy';
import { ADMIN_THROTTLER_STORAGE, AdminRateLimitGuard, BackupRateLimitGuard } from './rate-limit.guard';

/** Everything `@AdminApi()` needs; feature modules import this. */
@Module({
  imports: [PassportModule, AuditModule],
  providers: [JwtStrategy, AdminGuard, AdminRateLimitGuard, BackupRateLimitGuard, { provide: ADMIN_THROTTLER_STORAGE, useClass: ThrottlerStorageService }],
  exports: [AdminGuard, AdminRateLimitGuard, BackupRateLimitGuard, ADMIN_THROTTLER_STORAGE, AuditModule],
})
export class AuthModule {}
