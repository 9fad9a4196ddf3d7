import { Module } from '@nestjs/common';
import { PassportModule } from '@nestjs/passport';
import { AuditModule } from '../audit/audit.module';
import { AdminGuard } from './admin.guard';
import { JwtStrategy } from './jwt.strategy';

/** Everything `@AdminApi()` needs; feature modules import this. */
@Module({
  imports: [PassportModule, AuditModule],
  providers: [JwtStrategy, AdminGuard],
  exports: [AdminGuard, AuditModule],
})
export class AuthModule {}
