import { createParamDecorator, ExecutionContext } from '@nestjs/common';
import { AdminPrincipal } from './admin-principal';

/** The `sub` of the verified token. */
export const Actor = createParamDecorator((_data: unknown, context: ExecutionContext): string => {
  return context.switchToHttp().getRequest<{ user: AdminPrincipal }>().user.sub;
});
