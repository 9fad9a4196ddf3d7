/** Nest's error body: `message` is a list for validation failures. */
export interface ApiErrorBody {
  statusCode: number;
  message: string | string[];
  error?: string;
}

/** Any non-2xx answer; `message` is the server's (joined when it sent a list). */
export class ApiError extends Error {
  override name = 'ApiError';

  constructor(
    readonly status: number,
    message: string,
    readonly body: ApiErrorBody | undefined,
  ) {
    super(message);
  }
}

/** 401: no token, or an invalid or expired one. */
export class UnauthorizedError extends ApiError {
  override name = 'UnauthorizedError';
}

/** 403: the token's roles lack the permission. */
export class ForbiddenError extends ApiError {
  override name = 'ForbiddenError';
}

/** 404: no such backup or restore. */
export class NotFoundError extends ApiError {
  override name = 'NotFoundError';
}

/** 409: another operation holds the lock (or the backup is in a state the request cannot use). */
export class LockHeldError extends ApiError {
  override name = 'LockHeldError';
}

/** 422: the backup is damaged, incomplete or cannot be restored as asked; nothing changed. */
export class DamagedBackupError extends ApiError {
  override name = 'DamagedBackupError';
}

/** 507: not enough free space for the backup. */
export class NoSpaceError extends ApiError {
  override name = 'NoSpaceError';
}

const byStatus: Record<number, typeof ApiError> = {
  401: UnauthorizedError,
  403: ForbiddenError,
  404: NotFoundError,
  409: LockHeldError,
  422: DamagedBackupError,
  507: NoSpaceError,
};

/** The typed error for a failed response, with the server's message (or the status line without a JSON body). */
export async function errorFromResponse(response: Response): Promise<ApiError> {
  const text = await response.text().catch(() => '');
  let body: ApiErrorBody | undefined;
  try {
    body = JSON.parse(text) as ApiErrorBody;
  } catch {
    body = undefined;
  }
  const serverMessage = body?.message;
  const message = Array.isArray(serverMessage)
    ? serverMessage.join('; ')
    : serverMessage || text || `${response.status} ${response.statusText}`;
  const ErrorClass = byStatus[response.status] ?? ApiError;
  return new ErrorClass(response.status, message, body);
}
