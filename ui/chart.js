// Size and duration of completed backups over time: inline SVG, no library.
// Bars: size (left axis). Line: duration (right axis). Oldest on the left.

import { h, s } from './dom.js';
import { bytes, dateTime, duration, shortDate } from './format.js';

const W = 720;
const H = 180;
const PAD = { top: 14, right: 64, bottom: 26, left: 64 };

/** A round number at or above `value`, for the top of an axis. */
function niceCeil(value) {
  if (value <= 0) return 1;
  const power = 10 ** Math.floor(Math.log10(value));
  for (const step of [1, 2, 2.5, 5, 10]) if (value <= step * power) return step * power;
  return 10 * power;
}

/** The same in whole binary units, so the size axis reads 200 KiB rather than 195 KiB. */
function niceBytes(value) {
  const unit = 1024 ** Math.max(0, Math.floor(Math.log(Math.max(value, 1)) / Math.log(1024)));
  return niceCeil(value / unit) * unit;
}

/** Dates under the axis; times when every point is on the same day. */
function axisLabel(value, sameDay) {
  const d = new Date(value);
  return sameDay ? d.toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit' }) : shortDate(value);
}

export function historyChart(backups) {
  const points = backups.filter((b) => b.status === 'completed').slice().sort((a, b) => new Date(a.createdAt) - new Date(b.createdAt));
  if (points.length < 2) return h('p', { className: 'muted chart-empty' }, 'The chart appears once there are two completed backups.');
  const plotW = W - PAD.left - PAD.right;
  const plotH = H - PAD.top - PAD.bottom;
  const maxSize = niceBytes(Math.max(...points.map((b) => b.sizeBytes)));
  const maxMs = niceCeil(Math.max(...points.map((b) => b.durationMs ?? 0)));
  const slot = plotW / points.length;
  const x = (i) => PAD.left + slot * (i + 0.5);
  const ySize = (v) => PAD.top + plotH * (1 - v / maxSize);
  const yMs = (v) => PAD.top + plotH * (1 - v / maxMs);
  const bottom = PAD.top + plotH;

  const grid = [0, 0.5, 1].map((f) => {
    const y = PAD.top + plotH * (1 - f);
    return s('g', {},
      s('line', { className: 'grid', x1: PAD.left, x2: W - PAD.right, y1: y, y2: y }),
      s('text', { className: 'axis size', x: PAD.left - 6, y: y + 4, 'text-anchor': 'end' }, bytes(maxSize * f)),
      s('text', { className: 'axis duration', x: W - PAD.right + 6, y: y + 4 }, duration(maxMs * f)),
    );
  });
  const barWidth = Math.max(2, Math.min(28, slot * 0.6));
  const bars = points.map((b, i) =>
    s('rect', { className: 'bar', x: x(i) - barWidth / 2, y: ySize(b.sizeBytes), width: barWidth, height: Math.max(1, bottom - ySize(b.sizeBytes)) },
      s('title', {}, `${dateTime(b.createdAt)}: ${bytes(b.sizeBytes)} in ${duration(b.durationMs)}`)),
  );
  const line = s('polyline', { className: 'line', points: points.map((b, i) => `${x(i)},${yMs(b.durationMs ?? 0)}`).join(' ') });
  const dots = points.map((b, i) => s('circle', { className: 'dot', cx: x(i), cy: yMs(b.durationMs ?? 0), r: 3 }, s('title', {}, `${dateTime(b.createdAt)}: ${duration(b.durationMs)}`)));
  const sameDay = shortDate(points[0].createdAt) === shortDate(points[points.length - 1].createdAt);
  const labels = [0, points.length - 1].map((i) =>
    s('text', { className: 'axis', x: x(i), y: H - 8, 'text-anchor': 'middle' }, axisLabel(points[i].createdAt, sameDay)),
  );

  return h('figure', { className: 'chart' },
    s('svg', { viewBox: `0 0 ${W} ${H}`, role: 'img', 'aria-label': `size and duration of the last ${points.length} completed backups` },
      grid, bars, line, dots, labels),
    h('figcaption', {}, h('span', { className: 'key size' }, 'size'), h('span', { className: 'key duration' }, 'duration'),
      h('span', { className: 'muted' }, ` · last ${points.length} completed backups`)),
  );
}
