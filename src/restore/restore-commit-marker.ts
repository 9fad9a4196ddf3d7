import { quoteIdent, quoteLiteral } from '../infra/process/pg-connection';

/**
 * The restore's transaction inserts a row into `restore_commit` as its last statement before
 * COMMIT: the row exists exactly when the restore committed. After a crash it tells whether a
 * restore that was still running rolled back or completed, which no guess can.
 */
export function restoreCommitMarkerSql(schema: string, restoreId: string): string {
  return `INSERT INTO ${quoteIdent(schema)}.restore_commit (restore_id) VALUES (${quoteLiteral(restoreId)});`;
}
