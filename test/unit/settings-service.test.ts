import 'reflect-metadata';
import { describe, it, mock } from 'node:test';
import assert from 'node:assert/strict';
import { plainToInstance } from 'class-transformer';
import { validate } from 'class-validator';
import { Repository } from 'typeorm';
import { PgBackupOptions } from '../../src/pg-backup.options';
import { BackupConfigRow } from '../../src/settings/backup-config.entity';
import { UpdateConfigDto } from '../../src/settings/dto/update-config.dto';
import { SettingsService } from '../../src/settings/settings.service';
import { DatabaseSignals } from '../../src/database/database-signals';
import { ScheduleTick } from '../../src/automation/schedule-tick.entity';

/** The insert … on conflict do nothing chain onModuleInit builds, keeping the values it was given. */
function seedHarness(options: Partial<PgBackupOptions>) {
  const inserted: Partial<BackupConfigRow>[] = [];
  const builder = {
    insert: mock.fn(() => builder),
    values: mock.fn((values: Partial<BackupConfigRow>) => {
      inserted.push(values);
      return builder;
    }),
    orIgnore: mock.fn(() => builder),
    execute: mock.fn(async () => undefined),
  };
  const rows = { createQueryBuilder: mock.fn(() => builder) };
  const service = new SettingsService(
    rows as unknown as Repository<BackupConfigRow>,
    {} as Repository<ScheduleTick>, // not read when seeding
    options as PgBackupOptions,
    {} as DatabaseSignals,
  );
  return { service, builder, inserted };
}

describe('SettingsService first start', () => {
  it('seeds zstd compression by default', async () => {
    const h = seedHarness({});

    await h.service.onModuleInit();

    assert.equal(h.inserted[0].compression, 'zstd');
    assert.equal(h.builder.orIgnore.mock.callCount(), 1, 'an existing configuration is left as it is');
  });

  it('seeds the configured initial compression', async () => {
    for (const compression of ['gzip', 'none', 'zstd'] as const) {
      const h = seedHarness({ initialCompression: compression });
      await h.service.onModuleInit();
      assert.equal(h.inserted[0].compression, compression);
    }
  });
});

describe('UpdateConfigDto compression', () => {
  it('accepts zstd, gzip and none, and nothing else', async () => {
    for (const compression of ['zstd', 'gzip', 'none']) {
      assert.deepEqual(await validate(plainToInstance(UpdateConfigDto, { compression })), [], compression);
    }
    for (const compression of ['bzip2', 'ZSTD', '', 6]) {
      const errors = await validate(plainToInstance(UpdateConfigDto, { compression }));
      assert.deepEqual(errors.map((e) => e.property), ['compression'], String(compression));
    }
  });
});

describe('UpdateConfigDto null', () => {
  it('refuses null for fields that cannot be cleared, and accepts it for those that can', async () => {
    for (const property of ['enabled', 'retention', 'compression', 'verifyAfterCreate']) {
      const errors = await validate(plainToInstance(UpdateConfigDto, { [property]: null }));
      assert.deepEqual(errors.map((e) => e.property), [property], property);
    }
    for (const property of ['schedule', 'intervalMinutes', 'timezone', 'drillSchedule', 'archiveAfterDays', 'scrubIntervalHours']) {
      assert.deepEqual(await validate(plainToInstance(UpdateConfigDto, { [property]: null })), [], property);
    }
  });
});

describe('SettingsService.update', () => {
  it('never writes back a lastScrubAt recorded between its read and its write', async () => {
    const scrubbedAt = new Date('2026-01-02T03:04:05Z');
    const stored: BackupConfigRow = {
      id: 1,
      enabled: false,
      schedule: null,
      intervalMinutes: null,
      timezone: null,
      drillSchedule: null,
      retention: { keepLast: 7, maxAgeDays: 0, daily: 0, weekly: 0, monthly: 0 },
      archiveAfterDays: null,
      compression: 'zstd',
      verifyAfterCreate: false,
      scrubIntervalHours: 24,
      lastScrubAt: null,
      updatedAt: new Date(0),
      updatedBy: null,
    } as BackupConfigRow;
    let reads = 0;
    const rows = {
      findOneByOrFail: mock.fn(async () => {
        const copy = { ...stored };
        if (reads++ === 0) stored.lastScrubAt = scrubbedAt; // a scrub finishes right after the read
        return copy;
      }),
      save: mock.fn(async (row: BackupConfigRow) => Object.assign(stored, row)),
      update: mock.fn(async (_where: unknown, changes: Partial<BackupConfigRow>) => Object.assign(stored, changes)),
    };
    const ticks = { findOne: mock.fn(async () => null) };
    const signals = { send: mock.fn(async () => undefined) };
    const service = new SettingsService(
      rows as unknown as Repository<BackupConfigRow>,
      ticks as unknown as Repository<ScheduleTick>,
      {} as PgBackupOptions,
      signals as unknown as DatabaseSignals,
    );

    const config = await service.update('alice', plainToInstance(UpdateConfigDto, { schedule: '0 3 * * *' }));

    assert.equal(stored.lastScrubAt, scrubbedAt, 'the scrub record survives');
    assert.equal(stored.schedule, '0 3 * * *');
    assert.equal(stored.updatedBy, 'alice');
    assert.equal(config.lastScrubAt, scrubbedAt);
    assert.equal(rows.save.mock.callCount(), 0, 'no whole-row save');
  });
});
