import { createHash } from 'node:crypto';

/** First key of every advisory lock taken by this module ('PGBU'). */
const LOCK_NAMESPACE = 0x50474255;

export enum LockPurpose {
  /** Held for the whole of every backup and restore. */
  Operation = 1,
  /** Held while migrations run at start. */
  Migrations = 2,
  /** Held for a moment while an instance decides whether a startup backup is due. */
  StartupBackup = 3,
}

export interface AdvisoryLockKey {
  classId: number;
  objectId: number;
}

/** Keys depend on the schema, so two installations in one database do not exclude each other. */
export function advisoryLockKey(schema: string, purpose: LockPurpose): AdvisoryLockKey {
  const digest = createHash('sha256').update(`${schema}:${purpose}`).digest();
  return { classId: LOCK_NAMESPACE, objectId: digest.readUInt32BE(0) & 0x7fffffff };
}

export const OPERATION_LOCK_ROW = 'operation';
