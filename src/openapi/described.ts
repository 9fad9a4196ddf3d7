/**
 * What a response class for the OpenAPI document promises: a property for every field of the
 * type the service returns (`class BackupResponse implements Described<BackupHistory>`), so a
 * field added to that type and not documented fails to compile.
 */
export type Described<T> = { [K in keyof T]: unknown };
