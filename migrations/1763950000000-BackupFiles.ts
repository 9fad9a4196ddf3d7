import { MigrationInterface, QueryRunner } from 'typeorm';
import { schemaOf } from './schema-of';

/** The optional files part of a backup (BACKUP_INCLUDE_PATHS). */
export class BackupFiles1763950000000 implements MigrationInterface {
  name = 'BackupFiles1763950000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE ${schemaOf(queryRunner)}.backup_history ADD COLUMN files jsonb`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE ${schemaOf(queryRunner)}.backup_history DROP COLUMN files`);
  }
}
