import { MigrationInterface, QueryRunner } from 'typeorm';
import { schemaOf } from './schema-of';

/**
 * Automation: interval schedules with a time zone, drill schedules and results, why a backup
 * was made (its origin), the tick table
 * that makes a scheduled tick run once across replicas, and the point of no return of an operation.
 */
export class Automation1763960000000 implements MigrationInterface {
  name = 'Automation1763960000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const s = schemaOf(queryRunner);
    await queryRunner.query(`ALTER TABLE ${s}.backup_config ADD COLUMN interval_minutes integer`);
    await queryRunner.query(`ALTER TABLE ${s}.backup_config ADD COLUMN timezone text`);
    await queryRunner.query(`ALTER TABLE ${s}.backup_config ADD COLUMN drill_schedule text`);
    await queryRunner.query(`ALTER TABLE ${s}.backup_history ADD COLUMN drill jsonb`);
    await queryRunner.query(`ALTER TABLE ${s}.backup_history ADD COLUMN origin jsonb`);
    await queryRunner.query(`ALTER TABLE ${s}.operation_lock ADD COLUMN irrevocable boolean NOT NULL DEFAULT false`);
    await queryRunner.query(`
      CREATE TABLE ${s}.schedule_tick (
        kind varchar(16) NOT NULL,
        scheduled_at timestamptz NOT NULL,
        instance_id text NOT NULL,
        claimed_at timestamptz NOT NULL,
        outcome varchar(16) NOT NULL,
        backup_id uuid,
        detail text,
        finished_at timestamptz,
        PRIMARY KEY (kind, scheduled_at)
      )`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    const s = schemaOf(queryRunner);
    await queryRunner.query(`DROP TABLE ${s}.schedule_tick`);
    await queryRunner.query(`ALTER TABLE ${s}.operation_lock DROP COLUMN irrevocable`);
    await queryRunner.query(`ALTER TABLE ${s}.backup_history DROP COLUMN origin`);
    await queryRunner.query(`ALTER TABLE ${s}.backup_history DROP COLUMN drill`);
    await queryRunner.query(`ALTER TABLE ${s}.backup_config DROP COLUMN drill_schedule`);
    await queryRunner.query(`ALTER TABLE ${s}.backup_config DROP COLUMN timezone`);
    await queryRunner.query(`ALTER TABLE ${s}.backup_config DROP COLUMN interval_minutes`);
  }
}
