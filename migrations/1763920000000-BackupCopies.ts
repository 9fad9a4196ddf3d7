import { MigrationInterface, QueryRunner } from 'typeorm';
import { schemaOf } from './schema-of';

/** Where each backup's copies live, and in what state. */
export class BackupCopies1763920000000 implements MigrationInterface {
  name = 'BackupCopies1763920000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE ${schemaOf(queryRunner)}.backup_history ADD COLUMN copies jsonb NOT NULL DEFAULT '[]'`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE ${schemaOf(queryRunner)}.backup_history DROP COLUMN copies`);
  }
}
