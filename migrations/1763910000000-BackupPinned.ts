import { MigrationInterface, QueryRunner } from 'typeorm';
import { schemaOf } from './schema-of';

/** `pinned` backups are never removed by retention. */
export class BackupPinned1763910000000 implements MigrationInterface {
  name = 'BackupPinned1763910000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE ${schemaOf(queryRunner)}.backup_history ADD COLUMN pinned boolean NOT NULL DEFAULT false`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE ${schemaOf(queryRunner)}.backup_history DROP COLUMN pinned`);
  }
}
