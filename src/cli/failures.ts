import { HttpException } from '@nestjs/common';
import { OperationInProgressException } from '../common/exceptions';
import { InvalidEnvironmentError } from '../config/env.validation';
import { CliError, ExitCode } from './exit-codes';

/** The exit code for anything a command threw (commander's own errors are mapped in cli.ts). */
export function exitCodeFor(error: unknown): ExitCode {
  if (error instanceof CliError) return error.exitCode;
  if (error instanceof OperationInProgressException) return ExitCode.LockHeld;
  if (error instanceof InvalidEnvironmentError) return ExitCode.Usage;
  // a 400 from a service (a combination of config values it refuses) is the caller's to fix
  if (error instanceof HttpException && error.getStatus() === 400) return ExitCode.Usage;
  return ExitCode.Failure;
}

/** The message of an error as the API would have answered it (validation messages joined). */
export function errorMessage(error: unknown): string {
  if (error instanceof HttpException) {
    const response = error.getResponse();
    const message = typeof response === 'object' && response && 'message' in response ? (response as { message: unknown }).message : response;
    return Array.isArray(message) ? message.join('; ') : String(message);
  }
  return error instanceof Error ? error.message : String(error);
}
