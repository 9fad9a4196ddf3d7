import { mock } from 'node:test';
import { Repository } from 'typeorm';

type Where<T> = Partial<Record<keyof T, unknown>>;

function matches<T extends object>(row: T, where: Where<T>): boolean {
  return Object.entries(where).every(([key, value]) => {
    const actual = (row as Record<string, unknown>)[key];
    if (actual instanceof Date && value instanceof Date) return actual.getTime() === value.getTime();
    return actual === value;
  });
}

/**
 * An in-memory stand-in for the few TypeORM Repository methods the services call, each a
 * mock.fn so a test can check what was written. `rows` holds copies taken at save time.
 */
export class FakeRepository<T extends object> {
  readonly rows: T[] = [];

  constructor(private readonly key: keyof T) {}

  readonly create = mock.fn((entity: Partial<T>): T => ({ ...entity }) as T);

  readonly save = mock.fn(async (entity: T): Promise<T> => {
    const index = this.rows.findIndex((row) => row[this.key] === entity[this.key]);
    if (index >= 0) this.rows[index] = { ...entity };
    else this.rows.push({ ...entity });
    return entity;
  });

  readonly upsert = mock.fn(async (entity: T, _conflictPaths: string[]): Promise<void> => {
    await this.save(entity);
  });

  readonly update = mock.fn(async (where: Where<T>, changes: Partial<T>): Promise<{ affected: number }> => {
    const hits = this.rows.filter((row) => matches(row, where));
    for (const row of hits) Object.assign(row, changes);
    return { affected: hits.length };
  });

  readonly delete = mock.fn(async (where: Where<T>): Promise<{ affected: number }> => {
    const before = this.rows.length;
    const kept = this.rows.filter((row) => !matches(row, where));
    this.rows.splice(0, this.rows.length, ...kept);
    return { affected: before - kept.length };
  });

  readonly findOneBy = mock.fn(async (where: Where<T>): Promise<T | null> => {
    const row = this.rows.find((r) => matches(r, where));
    return row ? { ...row } : null;
  });

  readonly findBy = mock.fn(async (where: Where<T>): Promise<T[]> => this.rows.filter((r) => matches(r, where)).map((r) => ({ ...r })));

  /** Seeds a row without recording a save call. */
  seed(...rows: T[]): this {
    this.rows.push(...rows.map((r) => ({ ...r })));
    return this;
  }

  asRepository(): Repository<T> {
    return this as unknown as Repository<T>;
  }
}
