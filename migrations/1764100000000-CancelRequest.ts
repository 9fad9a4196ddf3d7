import { MigrationInterface, QueryRunner } from 'typeorm';
import { schemaOf } from './schema-of';

/**
 * A cancel request is a flag on the operation's lock row, which only the module's role can
 * write: the NOTIFY that follows (any role can send one) only makes the holder re-read it.
 */
export class CancelRequest1764100000000 implements MigrationInterface {
  name = 'CancelRequest1764100000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const s = schemaOf(queryRunner);
    await queryRunner.query(`ALTER TABLE ${s}.operation_lock ADD COLUMN cancel_requested boolean NOT NULL DEFAULT false`);
    await queryRunner.query(`REVOKE ALL ON ${s}.operation_lock FROM PUBLIC`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    const s = schemaOf(queryRunner);
    await queryRunner.query(`ALTER TABLE ${s}.operation_lock DROP COLUMN cancel_requested`);
  }
}
