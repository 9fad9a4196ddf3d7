import { Module } from '@nestjs/common';
import { DatabaseInfoRepository } from '../database/database-info.repository';
import { BackupPipeline } from '../pipeline/backup-pipeline.service';
import { PgToolsRepository } from './process/pg-tools.repository';
import { ProcessRepository } from './process/process.repository';
import { S3Repository } from './storage/s3.repository';
import { StorageRepository } from './storage/storage.repository';
import { ZipRepository } from './storage/zip.repository';

const providers = [ProcessRepository, StorageRepository, S3Repository, ZipRepository, PgToolsRepository, DatabaseInfoRepository, BackupPipeline];

@Module({ providers, exports: providers })
export class InfraModule {}
