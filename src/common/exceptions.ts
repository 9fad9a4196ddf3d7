import {
  ConflictException,
  HttpException,
  HttpStatus,
  InternalServerErrorException,
  NotFoundException,
  ServiceUnavailableException,
  UnprocessableEntityException,
} from '@nestjs/common';

/** Another backup or restore holds the operation lock (here or on another instance). */
export class OperationInProgressException extends ConflictException {
  constructor(detail?: string) {
    super(`another backup or restore is running${detail ? `: ${detail}` : ''}`);
  }
}

export class BackupNotFoundException extends NotFoundException {
  constructor(id: string) {
    super(`backup ${id} not found`);
  }
}

export class RestoreNotFoundException extends NotFoundException {
  constructor(id: string) {
    super(`restore ${id} not found`);
  }
}

/** The backup exists but is not (or no longer) in a state the request needs. */
export class BackupStateException extends ConflictException {}

/** Restore refused: the backup is not a completed, intact backup. */
export class BackupNotRestorableException extends UnprocessableEntityException {}

/** A restore's tables or schemas that the backup does not hold. */
export class RestoreScopeUnknownException extends UnprocessableEntityException {
  constructor(backupId: string, names: string[]) {
    super(`backup ${backupId} holds no ${names.join(', ')}; GET /backups/${backupId}/contents lists what it holds; nothing was changed`);
  }
}

/** The restore's target (a schema, another database) cannot take it: it exists, is not empty, is the live database or another installation's. */
export class RestoreTargetConflictException extends ConflictException {}

/** pg_dump/pg_restore missing or older than the server. */
export class PgToolsException extends InternalServerErrorException {}

export class InsufficientStorageException extends HttpException {
  constructor(message: string) {
    super({ statusCode: HttpStatus.INSUFFICIENT_STORAGE, message, error: 'Insufficient Storage' }, HttpStatus.INSUFFICIENT_STORAGE);
  }
}

/** A delete that could not remove every copy (S3 or a ZIP unreachable): the backup stays listed, so a retry or an import cannot find it half-gone. */
export class BackupCopiesRemainException extends ServiceUnavailableException {
  constructor(id: string, remaining: string[]) {
    super(`backup ${id} was not deleted: ${remaining.join('; ')}. It stays listed; delete it again once the storage answers`);
  }
}

/** Nothing to cancel, or an operation that cannot be cancelled (now). */
export class OperationNotCancellableException extends ConflictException {}

/** The abort reason of an operation an admin cancelled; its entry records `error: "cancelled"`. */
export class OperationCancelledError extends Error {
  constructor() {
    super('cancelled');
  }
}

/** Restore refused before anything changed: roles the backup needs are missing, and the `roles` mode (or the restoring role's privileges) rules out going on. */
export class RolesMissingException extends UnprocessableEntityException {}
