import { applyDecorators } from '@nestjs/common';
import { ApiExtraModels, ApiParam, ApiProperty, ApiResponse, getSchemaPath } from '@nestjs/swagger';

/** The body of every error answer: Nest's HttpException shape. */
export class ApiErrorResponse {
  @ApiProperty({ type: 'integer', example: 409 })
  statusCode!: number;

  @ApiProperty({
    description: 'What went wrong; for a failed validation (400), one line per broken rule',
    oneOf: [{ type: 'string' }, { type: 'array', items: { type: 'string' } }],
    example: 'another backup or restore is running: backup 0b6c1a2e-… started by alice at 2026-01-01T03:00:00.000Z',
  })
  message!: string | string[];

  @ApiProperty({ required: false, description: 'The status text; absent on an unexpected 500', example: 'Conflict' })
  error?: string;
}

/**
 * One documented error status of an operation. The body is JSON even where the success is not
 * (a download, the event stream, the metrics), so the content is spelled out here.
 */
export const ApiError = (status: number, description: string) =>
  applyDecorators(
    ApiExtraModels(ApiErrorResponse),
    ApiResponse({ status, description, content: { 'application/json': { schema: { $ref: getSchemaPath(ApiErrorResponse) } } } }),
  );

/** Errors shared by many operations. */
export const ApiLockHeld = () =>
  ApiError(409, 'Another operation (backup, restore, drill, delete, cleanup, import, upload, scrub) holds the lock, here or on another instance');
export const ApiBackupNotFound = () => ApiError(404, 'No backup with this id');

/** The `:id` path parameter, and the 400 of a malformed one (or of any other broken rule). */
export const ApiIdParam = (of: string, badRequest = 'The id is not a UUID, or the request broke a validation rule') =>
  applyDecorators(ApiParam({ name: 'id', type: String, format: 'uuid', description: `The ${of}'s id` }), ApiError(400, badRequest));

/** 401 and 403 of the admin guard: every admin operation has both. */
export const ApiAdminErrors = () =>
  applyDecorators(ApiError(401, 'No bearer token, or an invalid or expired one'), ApiError(403, 'The token carries no role of this API, or none whose level holds the permission this operation needs'));
