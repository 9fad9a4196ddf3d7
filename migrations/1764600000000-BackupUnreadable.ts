import { MigrationInterface, QueryRunner } from 'typeorm';
import { schemaOf } from './schema-of';

/** A mark on backups the configured key could not open at their last verification (retention does not count them). */
export class BackupUnreadable1764600000000 implements MigrationInterface {
  name = 'BackupUnreadable1764600000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const s = schemaOf(queryRunner);
    await queryRunner.query(`ALTER TABLE ${s}.backup_history ADD COLUMN unreadable boolean NOT NULL DEFAULT false`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    const s = schemaOf(queryRunner);
    await queryRunner.query(`ALTER TABLE ${s}.backup_history DROP COLUMN unreadable`);
  }
}
