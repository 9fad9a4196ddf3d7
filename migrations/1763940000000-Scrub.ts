import { MigrationInterface, QueryRunner } from 'typeorm';
import { schemaOf } from './schema-of';

/** The periodic scrub: its interval and last run in the config, and a damaged mark on backups. */
export class Scrub1763940000000 implements MigrationInterface {
  name = 'Scrub1763940000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const s = schemaOf(queryRunner);
    await queryRunner.query(`ALTER TABLE ${s}.backup_config ADD COLUMN scrub_interval_hours integer`);
    await queryRunner.query(`ALTER TABLE ${s}.backup_config ADD COLUMN last_scrub_at timestamptz`);
    await queryRunner.query(`ALTER TABLE ${s}.backup_history ADD COLUMN damaged boolean NOT NULL DEFAULT false`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    const s = schemaOf(queryRunner);
    await queryRunner.query(`ALTER TABLE ${s}.backup_history DROP COLUMN damaged`);
    await queryRunner.query(`ALTER TABLE ${s}.backup_config DROP COLUMN last_scrub_at`);
    await queryRunner.query(`ALTER TABLE ${s}.backup_config DROP COLUMN scrub_interval_hours`);
  }
}
