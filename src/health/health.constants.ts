/** Each `ready` check is down when it takes longer than this. */
export const CHECK_TIMEOUT_MS = 3000;
