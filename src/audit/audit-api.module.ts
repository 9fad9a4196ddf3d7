import { Module } from '@nestjs/common';
import { AuthModule } from '../auth/auth.module';
import { AuditController } from './audit.controller';

/** The audit log's HTTP face (apart from AuditModule, which the guard itself needs). */
@Module({ imports: [AuthModule], controllers: [AuditController] })
export class AuditApiModule {}
