import { MigrationInterface, QueryRunner } from 'typeorm';
import { schemaOf } from './schema-of';

/** The row a restore's transaction writes before its COMMIT: after a crash, the proof it committed. */
export class RestoreCommit1764500000000 implements MigrationInterface {
  name = 'RestoreCommit1764500000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const s = schemaOf(queryRunner);
    await queryRunner.query(`
      CREATE TABLE ${s}.restore_commit (
        restore_id uuid PRIMARY KEY,
        committed_at timestamptz NOT NULL DEFAULT now()
      )`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE ${schemaOf(queryRunner)}.restore_commit`);
  }
}
