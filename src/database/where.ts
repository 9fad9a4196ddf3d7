/** Drops undefined filters: TypeORM 1.x refuses undefined values in a where condition. */
export function whereDefined<T extends object>(filters: T): { [K in keyof T]: Exclude<T[K], undefined> } {
  return Object.fromEntries(Object.entries(filters).filter(([, value]) => value !== undefined)) as {
    [K in keyof T]: Exclude<T[K], undefined>;
  };
}
