import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isScrubDue } from '../../src/backup/backup-scrub.service';

describe('isScrubDue', () => {
  const now = new Date('2026-11-23T12:00:00Z');

  it('never when no interval is set', () => {
    assert.equal(isScrubDue({ scrubIntervalHours: null, lastScrubAt: null }, now), false);
  });

  it('at once when none has run yet', () => {
    assert.equal(isScrubDue({ scrubIntervalHours: 24, lastScrubAt: null }, now), true);
  });

  it('once the interval has passed since the last one, and not before', () => {
    assert.equal(isScrubDue({ scrubIntervalHours: 24, lastScrubAt: new Date('2026-11-22T12:00:01Z') }, now), false);
    assert.equal(isScrubDue({ scrubIntervalHours: 24, lastScrubAt: new Date('2026-11-22T12:00:00Z') }, now), true);
  });
});
