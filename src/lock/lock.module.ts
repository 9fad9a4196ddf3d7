import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AuthModule } from '../auth/auth.module';
import { SignalsModule } from '../database/signals.module';
import { PG_BACKUP_CONNECTION } from '../pg-backup.options';
import { AdvisoryLockRepository } from './advisory-lock.repository';
import { LockService } from './lock.service';
import { OperationLock } from './operation-lock.entity';
import { OperationEventsController } from './operation-events.controller';
import { OperationsController } from './operations.controller';

@Module({
  imports: [TypeOrmModule.forFeature([OperationLock], PG_BACKUP_CONNECTION), AuthModule, SignalsModule],
  providers: [AdvisoryLockRepository, LockService],
  controllers: [OperationsController, OperationEventsController],
  exports: [LockService, AdvisoryLockRepository],
})
export class LockModule {}
