import { Module } from '@nestjs/common';
import { AuthModule } from '../auth/auth.module';
import { AuditController } from './audit.controller';
import { RequestErrorAudit } from './request-error.audit';

/** The audit log's HTTP face (apart from AuditModule, which the guard itself needs), and the audit of requests refused before any route. */
@Module({ imports: [AuthModule], controllers: [AuditController], providers: [RequestErrorAudit] })
export class AuditApiModule {}
