export * from './client.js';
export * from './errors.js';
export { parseEventStream, type SseMessage } from './events.js';
export type { components, operations, paths } from './generated/openapi.js';
