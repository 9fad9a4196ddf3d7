import { applyDecorators, SetMetadata } from '@nestjs/common';
import { ApiExtension } from '@nestjs/swagger';
import { Permission, PERMISSION_LEVELS } from './permissions';

export const PERMISSION_METADATA = 'PG_BACKUP:PERMISSION';

/** OpenAPI extensions naming an operation's permission and the lowest role level holding it. */
export const REQUIRED_PERMISSION_EXTENSION = 'x-required-permission';
export const REQUIRED_ROLE_EXTENSION = 'x-required-role';

/**
 * The permission a route needs, read by the admin guard and shown in the OpenAPI document. A
 * route under `@AdminApi()` without one needs an admin.
 */
export const RequiresPermission = (permission: Permission) =>
  applyDecorators(
    SetMetadata(PERMISSION_METADATA, permission),
    ApiExtension(REQUIRED_PERMISSION_EXTENSION, permission),
    ApiExtension(REQUIRED_ROLE_EXTENSION, PERMISSION_LEVELS[permission]),
  );
