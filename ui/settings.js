// The settings view: schedule, retention, storage and checks (PUT /backups/config, its 400
// reasons shown beside the fields they concern), the schedule's state, and a cleanup preview.

import { api } from './api.js';
import { confirmDialog } from './dialogs.js';
import { $, badge, fill, h, toast } from './dom.js';
import { dateTime, relative } from './format.js';

const RETENTION = ['keepLast', 'maxAgeDays', 'daily', 'weekly', 'monthly'];
/** Fields a server message can name, longest first so `retention.keepLast` wins over `retention`. */
const FIELDS = ['enabled', 'schedule', 'intervalMinutes', 'timezone', 'drillSchedule', 'retention', ...RETENTION.map((k) => `retention.${k}`),
  'archiveAfterDays', 'compression', 'verifyAfterCreate', 'scrubIntervalHours'].sort((a, b) => b.length - a.length);

const form = () => $('#settings-form');
const input = (name) => form().elements.namedItem(name);

export function initSettings() {
  form().addEventListener('submit', (event) => {
    event.preventDefault();
    void save();
  });
  for (const radio of form().querySelectorAll('input[name="mode"]')) radio.addEventListener('change', showMode);
  $('#cleanup-preview').addEventListener('click', () => void preview());
  $('#cleanup-run').addEventListener('click', () => void cleanup());
}

export async function loadSettings() {
  try {
    const config = await api('GET', '/backups/config');
    fillForm(config);
    renderStatus(config);
  } catch (e) {
    showErrors([`Could not load the settings: ${e.message}`]);
  }
}

function fillForm(c) {
  input('enabled').checked = c.enabled;
  const mode = c.schedule ? 'cron' : c.intervalMinutes ? 'interval' : 'off';
  for (const radio of form().querySelectorAll('input[name="mode"]')) radio.checked = radio.value === mode;
  input('schedule').value = c.schedule ?? '';
  input('intervalMinutes').value = c.intervalMinutes ?? '';
  input('timezone').value = c.timezone ?? '';
  input('drillSchedule').value = c.drillSchedule ?? '';
  for (const key of RETENTION) input(`retention.${key}`).value = c.retention?.[key] ?? 0;
  input('archiveAfterDays').value = c.archiveAfterDays ?? '';
  input('compression').value = c.compression;
  input('verifyAfterCreate').checked = c.verifyAfterCreate;
  input('scrubIntervalHours').value = c.scrubIntervalHours ?? '';
  showMode();
}

function showMode() {
  const mode = form().querySelector('input[name="mode"]:checked')?.value ?? 'off';
  $('.field[data-field="schedule"]').hidden = mode !== 'cron';
  $('.field[data-field="intervalMinutes"]').hidden = mode !== 'interval';
}

/** Blank number fields mean "off" (null); anything else goes to the server as typed, which judges it. */
function number(name) {
  const value = input(name).value.trim();
  return value === '' ? null : Number(value);
}

function text(name) {
  return input(name).value.trim() || null;
}

function readForm() {
  const mode = form().querySelector('input[name="mode"]:checked')?.value ?? 'off';
  return {
    enabled: input('enabled').checked,
    schedule: mode === 'cron' ? (input('schedule').value.trim() || '') : null,
    intervalMinutes: mode === 'interval' ? number('intervalMinutes') ?? 0 : null,
    timezone: text('timezone'),
    drillSchedule: text('drillSchedule'),
    retention: Object.fromEntries(RETENTION.map((k) => [k, number(`retention.${k}`)])),
    archiveAfterDays: number('archiveAfterDays'),
    compression: input('compression').value,
    verifyAfterCreate: input('verifyAfterCreate').checked,
    scrubIntervalHours: number('scrubIntervalHours'),
  };
}

async function save() {
  clearErrors();
  const button = $('#settings-save');
  button.disabled = true;
  try {
    const config = await api('PUT', '/backups/config', { body: readForm() });
    fillForm(config);
    renderStatus(config);
    fill($('#settings-saved'), `Saved ${dateTime(config.updatedAt)}`);
    toast('Settings saved');
  } catch (e) {
    showErrors(e.messages, e.status === 400 ? 'The server refused these settings:' : 'Saving failed:');
  } finally {
    button.disabled = false;
  }
}

function clearErrors() {
  for (const old of form().querySelectorAll('.field-error')) old.remove();
  for (const field of form().querySelectorAll('[aria-invalid]')) field.removeAttribute('aria-invalid');
  $('#settings-errors').hidden = true;
  fill($('#settings-saved'));
}

function fieldOf(message) {
  return FIELDS.find((f) => message === f || (message.startsWith(f) && /^[\s:.]/.test(message.slice(f.length)))) ?? null;
}

/** Each reason beside its field, and all of them above the Save button. */
function showErrors(messages, heading = '') {
  for (const message of messages) {
    const field = fieldOf(message);
    const holder = field && form().querySelector(`.field[data-field="${field}"]`);
    if (!holder) continue;
    holder.hidden = false;
    holder.append(h('p', { className: 'field-error' }, message));
    holder.querySelector('input, select')?.setAttribute('aria-invalid', 'true');
  }
  const box = $('#settings-errors');
  fill(box, heading ? h('strong', {}, heading) : null, h('ul', {}, messages.map((m) => h('li', {}, m))));
  box.hidden = false;
}

function tick(report) {
  if (!report) return h('span', { className: 'muted' }, 'none yet');
  const kind = { running: 'running', completed: 'completed', failed: 'failed', skipped: 'warn' }[report.outcome] ?? 'plain';
  return h('span', {}, `${dateTime(report.scheduledAt)} `, badge(report.outcome, kind), report.detail ? h('div', { className: 'muted' }, report.detail) : null);
}

function renderStatus(c) {
  const runs = c.nextRuns ?? [];
  fill(
    $('#schedule-status'),
    h('h2', {}, 'Schedule'),
    h('dl', { className: 'facts' },
      h('dt', {}, 'scheduled backups'), h('dd', {}, c.enabled ? badge('enabled', 'completed') : badge('disabled', 'plain'),
        c.schedule ? ` cron ${c.schedule}` : c.intervalMinutes ? ` every ${c.intervalMinutes} min` : ' no schedule', c.timezone ? ` (${c.timezone})` : ' (UTC)'),
      h('dt', {}, 'next runs'),
      h('dd', {}, runs.length ? h('ol', { id: 'next-runs' }, runs.map((r) => h('li', {}, `${dateTime(r)} (${relative(r)})`))) : h('span', { className: 'muted' }, 'none: the schedule is off')),
      h('dt', {}, 'last tick'), h('dd', { id: 'last-tick' }, tick(c.lastTick)),
      h('dt', {}, 'next drill'), h('dd', {}, c.drillNextRunAt ? `${dateTime(c.drillNextRunAt)} (${relative(c.drillNextRunAt)})` : h('span', { className: 'muted' }, 'no drill schedule')),
      h('dt', {}, 'last drill tick'), h('dd', {}, tick(c.lastDrillTick)),
      h('dt', {}, 'last scrub'), h('dd', {}, c.lastScrubAt ? dateTime(c.lastScrubAt) : h('span', { className: 'muted' }, 'never')),
      h('dt', {}, 'changed'), h('dd', {}, `${dateTime(c.updatedAt)}${c.updatedBy ? ` by ${c.updatedBy}` : ''}`),
    ),
  );
}

async function preview() {
  const box = $('#cleanup-result');
  try {
    const plan = await api('POST', '/backups/cleanup', { params: { dryRun: true } });
    const item = (b) => h('li', {}, `${b.filename} `, h('span', { className: 'muted' }, dateTime(b.createdAt)));
    const reasons = new Map();
    for (const k of plan.keep) for (const r of k.reasons) reasons.set(r, (reasons.get(r) ?? 0) + 1);
    fill(box,
      h('p', { className: 'muted' }, 'With the saved policy, a cleanup now would:'),
      h('h3', {}, `delete ${plan.delete.length}`),
      plan.delete.length ? h('ul', { id: 'cleanup-delete' }, plan.delete.map(item)) : h('p', { className: 'muted' }, 'nothing'),
      h('h3', {}, `archive ${plan.archive.length}`),
      plan.archive.length ? h('ul', {}, plan.archive.map(item)) : h('p', { className: 'muted' }, 'nothing'),
      h('h3', {}, `keep ${plan.keep.length}`),
      h('p', {}, [...reasons].map(([r, n]) => badge(`${r}: ${n}`, 'plain'))),
    );
  } catch (e) {
    fill(box, h('p', { className: 'error' }, `Preview failed: ${e.message}`));
  }
}

async function cleanup() {
  const ok = await confirmDialog({
    title: 'Apply the retention policy now?',
    body: h('p', {}, 'Backups the saved policy does not keep are deleted, with their copies; old ones are archived. Use the preview to see which.'),
    ok: 'Run cleanup',
    danger: true,
  });
  if (!ok) return;
  try {
    const result = await api('POST', '/backups/cleanup');
    toast(`Cleanup: ${result.deleted} deleted, ${result.archived} archived`);
    await preview();
  } catch (e) {
    toast(`Cleanup failed: ${e.message}`, 'error');
  }
}
