/** The security scheme of the admin API: a JWT carrying an admin role (`@ApiBearerAuth()`'s default name). */
export const ADMIN_SECURITY = 'bearer';

/** The security scheme of GET /metrics: the static metrics token, when one is configured. */
export const METRICS_TOKEN_SECURITY = 'metrics-token';

/** Where the docs go, below the admin API's path. */
export const DOCS_PATH = 'docs';
export const DOCS_JSON_PATH = 'docs-json';
