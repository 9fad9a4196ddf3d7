import { SetMetadata } from '@nestjs/common';

export const AUDIT_METADATA = 'PG_BACKUP:AUDIT';

export interface AuditMetadata {
  action: string;
  /** Plain reads are audited only when refused. */
  recordSuccess: boolean;
}

/** A call that changes something (or a download): audited in every outcome. */
export const Audited = (action: string) => SetMetadata<string, AuditMetadata>(AUDIT_METADATA, { action, recordSuccess: true });

/** A plain read: audited only when refused (401/403). */
export const AuditedWhenDenied = (action: string) =>
  SetMetadata<string, AuditMetadata>(AUDIT_METADATA, { action, recordSuccess: false });
