import { Controller, Logger, MessageEvent, Req, Sse } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiProduces, ApiTags } from '@nestjs/swagger';
import type { Request } from 'express';
import { catchError, defer, distinctUntilChanged, EMPTY, exhaustMap, interval, map, merge, Observable, shareReplay, startWith, takeUntil, timer } from 'rxjs';
import { AdminApi } from '../auth/admin-api.decorator';
import { RequiresPermission } from '../auth/requires-permission.decorator';
import { AuditedWhenDenied } from '../audit/audited.decorator';
import { CurrentOperation, LockService } from './lock.service';

const POLL_MS = 500;
const HEARTBEAT_MS = 15_000;

/**
 * `GET /operations/current/events`: the running operation as server-sent events. The lock is
 * read every 500 ms and an event (`data: {"locked":…,"operation":…}`) goes out only when it
 * changed, the current state first; a comment every 15 s keeps proxies from closing the stream.
 * One reader serves every client and stops when the last one leaves.
 */
@AdminApi()
@ApiTags('operations')
@Controller('operations')
export class OperationEventsController {
  private readonly logger = new Logger(OperationEventsController.name);
  private readonly changes: Observable<string>;

  constructor(lock: LockService) {
    this.changes = operationChanges(() => this.readCurrent(lock), POLL_MS);
  }

  @Sse('current/events')
  @AuditedWhenDenied('operation.events')
  @RequiresPermission('operations.read')
  @ApiOperation({
    operationId: 'streamCurrentOperation',
    summary: 'The running operation as server-sent events',
    description:
      'Each event\'s `data` is a `CurrentOperationResponse` as JSON, sent first at once and then whenever it changes (read every 0.5 s); a comment every 15 s keeps proxies from closing the stream.',
  })
  @ApiProduces('text/event-stream')
  @ApiOkResponse({ schema: { type: 'string' }, description: 'An endless text/event-stream' })
  events(@Req() request: Request): Observable<MessageEvent> {
    const stream = merge(
      this.changes.pipe(map((data) => ({ data }))),
      timer(HEARTBEAT_MS, HEARTBEAT_MS).pipe(map(() => ({ comment: 'heartbeat' }) as MessageEvent)),
    );
    // the guard checked the token once; the stream must not outlive it
    const expiresAt = tokenExpiry(request.headers.authorization);
    return expiresAt === null ? stream : stream.pipe(takeUntil(timer(expiresAt)));
  }

  /** A failed read (the database away a moment) skips one beat rather than ending the stream. */
  private readCurrent(lock: LockService): Observable<CurrentOperation> {
    return defer(() => lock.current()).pipe(
      catchError((error: Error) => {
        this.logger.warn(`reading the current operation failed: ${error.message}`);
        return EMPTY;
      }),
    );
  }
}

/** When the (already verified) bearer token expires, from its `exp` claim; null without one. */
export function tokenExpiry(authorization: string | undefined): Date | null {
  const payload = authorization?.match(/^Bearer\s+[^.]+\.([^.]+)\./i)?.[1];
  if (!payload) return null;
  try {
    const { exp } = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as { exp?: unknown };
    return typeof exp === 'number' && Number.isFinite(exp) ? new Date(exp * 1000) : null;
  } catch {
    return null;
  }
}

/** The state as JSON each time it differs from the last, shared: a late subscriber gets the latest at once. */
export function operationChanges(read: () => Observable<CurrentOperation>, pollMs: number): Observable<string> {
  return interval(pollMs).pipe(
    startWith(-1),
    exhaustMap(() => read()),
    map((current) => JSON.stringify(current)),
    distinctUntilChanged(),
    shareReplay({ bufferSize: 1, refCount: true }),
  );
}
