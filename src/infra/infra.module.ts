import { Module } from '@nestjs/common';
import { DatabaseInfoRepository } from '../database/database-info.repository';
import { PgToolsRepository } from './process/pg-tools.repository';
import { ProcessRepository } from './process/process.repository';
import { StorageRepository } from './storage/storage.repository';

const repositories = [ProcessRepository, StorageRepository, PgToolsRepository, DatabaseInfoRepository];

@Module({ providers: repositories, exports: repositories })
export class InfraModule {}
