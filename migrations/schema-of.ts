import { QueryRunner } from 'typeorm';

/** The configured schema of the module's tables, quoted. */
export function schemaOf(queryRunner: QueryRunner): string {
  const schema = (queryRunner.connection.options as { schema?: string }).schema ?? 'backup_admin';
  return `"${schema.replace(/"/g, '""')}"`;
}
