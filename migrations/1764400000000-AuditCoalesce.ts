import { MigrationInterface, QueryRunner } from 'typeorm';
import { schemaOf } from './schema-of';

/**
 * Refusals coalesce: one audit row per source, actor, action, reason and minute, with a count,
 * found again through its key (null for the entries that are never coalesced).
 */
export class AuditCoalesce1764400000000 implements MigrationInterface {
  name = 'AuditCoalesce1764400000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const s = schemaOf(queryRunner);
    await queryRunner.query(`ALTER TABLE ${s}.audit_log ADD COLUMN count integer NOT NULL DEFAULT 1`);
    await queryRunner.query(`ALTER TABLE ${s}.audit_log ADD COLUMN coalesce_key text`);
    await queryRunner.query(`CREATE UNIQUE INDEX audit_log_coalesce_key_idx ON ${s}.audit_log (coalesce_key) WHERE coalesce_key IS NOT NULL`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    const s = schemaOf(queryRunner);
    await queryRunner.query(`DROP INDEX ${s}.audit_log_coalesce_key_idx`);
    await queryRunner.query(`ALTER TABLE ${s}.audit_log DROP COLUMN coalesce_key`);
    await queryRunner.query(`ALTER TABLE ${s}.audit_log DROP COLUMN count`);
  }
}
