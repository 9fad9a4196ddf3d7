import { MigrationInterface, QueryRunner } from 'typeorm';
import { schemaOf } from './schema-of';

/** Backups moved into a daily ZIP under `archived/`. */
export class BackupArchived1763930000000 implements MigrationInterface {
  name = 'BackupArchived1763930000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const s = schemaOf(queryRunner);
    await queryRunner.query(`ALTER TABLE ${s}.backup_history ADD COLUMN archived boolean NOT NULL DEFAULT false`);
    await queryRunner.query(`ALTER TABLE ${s}.backup_history ADD COLUMN archive_path text`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    const s = schemaOf(queryRunner);
    await queryRunner.query(`ALTER TABLE ${s}.backup_history DROP COLUMN archive_path`);
    await queryRunner.query(`ALTER TABLE ${s}.backup_history DROP COLUMN archived`);
  }
}
