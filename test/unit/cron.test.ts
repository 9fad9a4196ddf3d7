import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { cronProblem, nextTick, nextTicks, timezoneProblem } from '../../src/settings/cron';

const spec = (fields: Partial<{ schedule: string; intervalMinutes: number; timezone: string }>) => ({
  schedule: fields.schedule ?? null,
  intervalMinutes: fields.intervalMinutes ?? null,
  timezone: fields.timezone ?? null,
});

describe('nextTick', () => {
  it('puts interval ticks on multiples of the interval since the epoch, strictly after the given time', () => {
    const every10 = spec({ intervalMinutes: 10 });
    assert.equal(nextTick(every10, new Date('2026-03-01T12:03:17Z'))!.toISOString(), '2026-03-01T12:10:00.000Z');
    assert.equal(nextTick(every10, new Date('2026-03-01T12:10:00Z'))!.toISOString(), '2026-03-01T12:20:00.000Z', 'a tick is never its own successor');
  });

  it('reads cron in UTC by default and in the given zone, across a daylight-saving change', () => {
    assert.equal(nextTick(spec({ schedule: '30 2 * * *' }), new Date('2026-03-01T00:00:00Z'))!.toISOString(), '2026-03-01T02:30:00.000Z');
    const berlin = spec({ schedule: '0 3 * * *', timezone: 'Europe/Berlin' });
    // CET (UTC+1) before 29 March 2026, CEST (UTC+2) after
    assert.deepEqual(
      nextTicks(berlin, new Date('2026-03-28T00:00:00Z'), 3).map((d) => d.toISOString()),
      ['2026-03-28T02:00:00.000Z', '2026-03-29T01:00:00.000Z', '2026-03-30T01:00:00.000Z'],
    );
  });

  it('supports 6-field expressions with seconds, and nothing without a schedule', () => {
    const ticks = nextTicks(spec({ schedule: '*/5 * * * * *' }), new Date('2026-01-01T00:00:01.500Z'), 3);
    assert.deepEqual(ticks.map((d) => d.toISOString()), ['2026-01-01T00:00:05.000Z', '2026-01-01T00:00:10.000Z', '2026-01-01T00:00:15.000Z']);
    assert.equal(nextTick(spec({}), new Date()), null);
    assert.deepEqual(nextTicks(spec({}), new Date(), 5), []);
  });
});

describe('schedule validation', () => {
  it('explains what is wrong', () => {
    assert.match(cronProblem('* * *')!, /5 or 6 fields/);
    assert.match(cronProblem('61 * * * *')!, /invalid cron expression/);
    assert.equal(cronProblem('0 3 * * 1-5'), null);
    assert.equal(timezoneProblem('Europe/Berlin'), null);
    assert.match(timezoneProblem('Europe/Atlantis')!, /unknown time zone/);
  });
});
