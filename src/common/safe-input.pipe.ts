import { ArgumentMetadata, BadRequestException, Injectable, PipeTransform } from '@nestjs/common';

/** Deeper than any request body of the API; far below what class-transformer's recursion survives. */
export const MAX_INPUT_DEPTH = 32;

const CHECKED: ReadonlySet<ArgumentMetadata['type']> = new Set(['body', 'query', 'param']);

/**
 * Refuses (400) input no handler can mean, before validation turns it into classes: JSON nested
 * deeper than MAX_INPUT_DEPTH (class-transformer would overflow its stack) and a NUL character
 * in any key or text (PostgreSQL cannot store one). Iterative, so hostile depth costs no stack.
 */
@Injectable()
export class SafeInputPipe implements PipeTransform {
  transform(value: unknown, metadata: ArgumentMetadata): unknown {
    if (!CHECKED.has(metadata.type)) return value;
    const problem = inputProblem(value);
    if (problem) throw new BadRequestException(`${metadata.type === 'param' ? 'path' : metadata.type}: ${problem}`);
    return value;
  }
}

export function inputProblem(value: unknown): string | null {
  const pending: [unknown, number][] = [[value, 0]];
  while (pending.length) {
    const [item, depth] = pending.pop()!;
    if (typeof item === 'string') {
      if (item.includes('\u0000')) return 'text must not contain a NUL character (\\u0000)';
    } else if (item !== null && typeof item === 'object') {
      if (depth >= MAX_INPUT_DEPTH) return `nested deeper than ${MAX_INPUT_DEPTH} levels`;
      for (const [key, child] of Object.entries(item)) {
        if (key.includes('\u0000')) return 'a key must not contain a NUL character (\\u0000)';
        pending.push([child, depth + 1]);
      }
    }
  }
  return null;
}
