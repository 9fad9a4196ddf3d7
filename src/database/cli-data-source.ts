import { DataSource } from 'typeorm';
import { dataSourceOptions } from './data-source';

/** For the TypeORM CLI: `DATABASE_URL=… npm run typeorm -- migration:show`. */
export default new DataSource(
  dataSourceOptions(process.env.DATABASE_URL ?? 'postgres://localhost/postgres', process.env.BACKUP_SCHEMA ?? 'backup_admin'),
);
