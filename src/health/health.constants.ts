/** Each `ready` check is down when it takes longer than this. */
export const CHECK_TIMEOUT_MS = 3000;

/** How long a `ready` answer is reused (option `health.readyCacheMs`). */
export const DEFAULT_READY_CACHE_MS = 5_000;
