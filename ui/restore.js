// The restore dialog: what comes back (the whole database or picked tables), where it goes (over
// the live database, beside it in a new schema, or into another database), the server's dry-run
// preview of it, and the typed-name confirmation; and the contents browser of a backup.

import { api } from './api.js';
import { showResult } from './dialogs.js';
import { $, fill, h, toast } from './dom.js';
import { bytes, dateTime, duration, relative } from './format.js';
import { follow } from './operation.js';

/** Rows of the preview's table list shown before "and N more". */
const PREVIEW_ROWS = 50;
const PREVIEW_DELAY_MS = 300;

/** The dialog's state: the backup, its contents once loaded, the last preview asked for. */
let current = null;
let onStarted = () => undefined;

export function initRestore(afterStart) {
  onStarted = afterStart;
  const form = $('#restore-form');
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    void restore();
  });
  form.addEventListener('change', (event) => {
    if (event.target.id === 'restore-confirm-input') return;
    syncChoices();
    schedulePreview();
  });
  $('#restore-table-filter').addEventListener('input', filterTables);
  for (const id of ['#restore-target-schema', '#restore-target-database']) $(id).addEventListener('input', schedulePreview);
  $('#restore-confirm-input').addEventListener('input', updateConfirm);
  $('#restore-cancel').addEventListener('click', () => $('#restore-dialog').close());
}

/** What the admin must type: the database the backup came from (its file name when that is unknown). */
export function openRestore(b) {
  const database = b.metadata?.database ?? null;
  current = { backup: b, database, expected: database ?? b.filename, contents: null, preview: null, previewTimer: null, asked: 0 };
  $('#restore-form').reset();
  fill($('#restore-table-list'));
  $('#restore-files-row').hidden = !b.files;
  fill($('#restore-expected'), current.expected);
  hideError();
  syncChoices();
  $('#restore-dialog').showModal();
  $('#restore-scope-all').focus();
  void preview();
}

/** The contents browser: what a backup holds, from its table of contents. */
export async function showContents(b) {
  try {
    const c = await api('GET', `/backups/${b.id}/contents`);
    const list = (label, items) => items.length ? [h('h3', {}, `${label} (${items.length})`), h('ul', { className: 'names' }, items.map((name) => h('li', {}, name)))] : [];
    showResult(`Contents of ${b.filename}`,
      h('p', { className: 'muted' }, `${c.schemas.length} schemas, ${c.tables.length} tables, ${c.largeObjects} large objects`),
      h('h3', {}, `Tables (${c.tables.length})`),
      h('div', { className: 'table-wrap' },
        h('table', { className: 'compact' },
          h('thead', {}, h('tr', {}, ['table', 'rows at backup', 'size'].map((t) => h('th', {}, t)))),
          h('tbody', {}, c.tables.map((t) => h('tr', {},
            h('td', {}, `${t.schema}.${t.name}`),
            h('td', { className: 'num' }, t.rows === null ? '—' : `${t.rowsEstimated ? '≈ ' : ''}${t.rows.toLocaleString()}`),
            h('td', { className: 'num' }, t.sizeBytes === null ? '—' : bytes(t.sizeBytes))))))),
      list('Schemas', c.schemas), list('Views', c.views), list('Materialized views', c.materializedViews), list('Functions', c.functions),
      list('Sequences', c.sequences), list('Types', c.types), list('Extensions', c.extensions), list('Roles it needs', c.roles));
  } catch (e) {
    toast(`Contents of ${b.filename}: ${e.message}`, 'error');
  }
}

function scopeChoice() {
  return $('#restore-form').elements.namedItem('restore-scope').value;
}

function targetChoice() {
  return $('#restore-form').elements.namedItem('restore-target').value;
}

/** Shows the inputs of the chosen options; the table list is loaded the first time it is wanted. */
function syncChoices() {
  const tables = scopeChoice() === 'tables';
  $('#restore-tables').hidden = !tables;
  if (tables && !current?.contents) void loadTables();
  const target = targetChoice();
  $('#restore-target-schema').hidden = target !== 'schema';
  $('#restore-target-database').hidden = target !== 'database';
  fill($('#restore-title'), target === 'live' ? (tables ? 'Restore these tables over the live ones?' : 'Restore the database?') : 'Restore a copy?');
  describeLoss(tables, target);
  updateConfirm();
}

/** What the chosen restore replaces, in words, above the preview's figures. */
function describeLoss(tables, target) {
  const { backup: b, database } = current;
  const taken = ` with backup ${b.filename}, taken ${dateTime(b.createdAt)} (${relative(b.createdAt)}).`;
  const db = h('strong', {}, database ?? '(unknown)');
  if (target !== 'live') {
    fill($('#restore-summary'), tables ? 'The picked tables of ' : 'The content of ', 'backup ', h('strong', {}, b.filename), ' are restored ',
      target === 'schema' ? 'into a new schema of database ' : 'into another database beside ', db, '.');
    fill($('#restore-loss'), h('li', {}, 'The live database is not touched: compare, then copy back what you need.'));
    return;
  }
  fill($('#restore-summary'), tables ? 'This replaces the picked tables of database ' : 'This replaces the entire content of database ', db, taken);
  fill($('#restore-loss'),
    h('li', {}, tables
      ? `Rows written to those tables since ${dateTime(b.createdAt)} are lost; every other table is left as it is.`
      : `Everything written since ${dateTime(b.createdAt)} is lost: new and changed rows, and tables, schemas, functions and other objects created since.`),
    h('li', {}, 'Sessions that keep locks on what is replaced are terminated after a short grace period.'),
    h('li', {}, `A safety backup of ${tables ? 'those tables' : 'the current content'} is taken first: restoring it undoes this restore.`),
    h('li', {}, 'The backup history, audit log and settings are not touched.'));
}

async function loadTables() {
  const asked = current;
  fill($('#restore-table-list'), h('p', { className: 'muted' }, 'Reading the backup’s table of contents…'));
  try {
    const contents = await api('GET', `/backups/${asked.backup.id}/contents`);
    if (current !== asked) return;
    asked.contents = contents;
    fill($('#restore-table-list'), contents.tables.map((t) => {
      const name = `${t.schema}.${t.name}`;
      return h('label', { className: 'check', dataset: { name } },
        h('input', { type: 'checkbox', value: name }), ` ${name} `,
        h('span', { className: 'muted' }, t.rows === null ? '' : `${t.rowsEstimated ? '≈ ' : ''}${t.rows.toLocaleString()} rows`, t.sizeBytes === null ? '' : `, ${bytes(t.sizeBytes)}`));
    }));
    filterTables();
  } catch (e) {
    if (current === asked) fill($('#restore-table-list'), h('p', { className: 'error' }, e.message));
  }
}

function filterTables() {
  const text = $('#restore-table-filter').value.trim().toLowerCase();
  for (const label of $('#restore-table-list').querySelectorAll('label[data-name]')) label.hidden = !!text && !label.dataset.name.toLowerCase().includes(text);
}

function pickedTables() {
  return [...$('#restore-table-list').querySelectorAll('input[type=checkbox]:checked')].map((input) => input.value);
}

/** The request body the dialog describes now (without `confirm`). */
function body() {
  const request = {};
  if (scopeChoice() === 'tables') request.tables = pickedTables();
  const target = targetChoice();
  if (target === 'schema') request.target = { schema: $('#restore-target-schema').value.trim() };
  if (target === 'database') request.target = { database: $('#restore-target-database').value.trim() };
  if (!$('#restore-files-row').hidden && $('#restore-files').checked) request.files = true;
  return request;
}

/** Whether the dialog describes a restore the server could be asked for. */
function complete(request) {
  if (request.tables && !request.tables.length) return 'Pick at least one table.';
  if (request.target && !(request.target.schema ?? request.target.database)) return 'Name the new schema or database.';
  return null;
}

function schedulePreview() {
  if (!current) return;
  clearTimeout(current.previewTimer);
  current.previewTimer = setTimeout(() => void preview(), PREVIEW_DELAY_MS);
}

/** Asks the server what the restore would do (dryRun): nothing changes; the answer is shown before the name is typed. */
async function preview() {
  const asked = current;
  const request = body();
  const missing = complete(request);
  asked.preview = null;
  updateConfirm();
  const box = $('#restore-preview');
  if (missing) {
    fill(box, h('p', { className: 'muted' }, missing));
    return;
  }
  const ask = ++asked.asked;
  fill(box, h('p', { className: 'muted' }, 'Working out what this restore would do…'));
  try {
    const answer = await api('POST', `/backups/${asked.backup.id}/restore`, { body: { ...request, confirm: true, dryRun: true } });
    if (current !== asked || ask !== asked.asked) return;
    asked.preview = { request, answer };
    renderPreview(answer, request);
  } catch (e) {
    if (current === asked && ask === asked.asked) fill(box, h('p', { className: 'error', role: 'alert' }, `Preview failed: ${e.message}`));
  }
  updateConfirm();
}

function renderPreview(p, request) {
  const changed = p.tables.filter((t) => t.current !== t.backup);
  const shown = (changed.length ? changed : p.tables).slice(0, PREVIEW_ROWS);
  const rest = (changed.length ? changed : p.tables).length - shown.length;
  const count = (n, estimated) => (n === null ? '—' : `${estimated ? '≈ ' : ''}${n.toLocaleString()}`);
  const warnings = [
    p.blockedBy && `A ${p.blockedBy.type} started by ${p.blockedBy.startedBy} is running: the restore cannot start until it ends.`,
    p.locks && !p.locks.enough && `It needs about ${p.locks.needed} locks and the server allows about ${p.locks.available}: set max_locks_per_transaction to ${p.locks.requiredMaxLocksPerTransaction} first.`,
    !request.target && p.safetyBackup && !p.safetyBackup.enough && `The safety backup needs about ${bytes(p.safetyBackup.expectedBytes)} and only ${bytes(p.safetyBackup.freeBytes)} is free.`,
  ].filter(Boolean);
  fill($('#restore-preview'),
    h('h3', {}, 'What this restore would do'),
    warnings.map((w) => h('p', { className: 'error', role: 'alert' }, w)),
    h('table', { className: 'compact', id: 'restore-preview-tables' },
      h('caption', { className: 'muted' }, changed.length ? `${changed.length} of ${p.tables.length} tables change` : `${p.tables.length} tables, row counts unchanged`),
      h('thead', {}, h('tr', {}, ['table', 'rows now', 'rows after'].map((t) => h('th', {}, t)))),
      h('tbody', {}, shown.map((t) => h('tr', {}, h('td', {}, t.name), h('td', { className: 'num' }, count(t.current, t.estimated)), h('td', { className: 'num' }, count(t.backup, t.estimated)))))),
    rest > 0 ? h('p', { className: 'muted' }, `and ${rest} more`) : null,
    p.vanishing.length && !request.target
      ? h('p', {}, h('strong', {}, `${p.vanishing.length} objects made since the backup will be removed: `), p.vanishing.slice(0, 20).map((o) => `${o.kind.toLowerCase()} ${o.schema ? `${o.schema}.` : ''}${o.name}`).join(', '), p.vanishing.length > 20 ? ', …' : '')
      : null,
    p.roles?.toCreate.length ? h('p', {}, `Roles it will create: ${p.roles.toCreate.join(', ')}`, p.roles.needPassword.length ? ` (set a password for ${p.roles.needPassword.join(', ')} afterwards)` : '') : null,
    h('p', { className: 'muted' },
      request.target ? 'No safety backup: nothing live is replaced. '
        : p.safetyBackup ? `Safety backup first: about ${bytes(p.safetyBackup.expectedBytes)} (${bytes(p.safetyBackup.freeBytes)} free). ` : 'No safety backup. ',
      p.estimatedDurationMs === null ? 'No past restores to estimate its duration from.' : `Estimated duration: ${duration(p.estimatedDurationMs)}.`));
}

/** The Restore button: only for the previewed request, once the name is typed. */
function updateConfirm() {
  const ready = !!current?.preview && JSON.stringify(current.preview.request) === JSON.stringify(body()) && !current.preview.answer.blockedBy;
  $('#restore-confirm').disabled = !ready || $('#restore-confirm-input').value !== current.expected;
}

async function restore() {
  const asked = current;
  if (!asked?.preview || $('#restore-confirm').disabled) return;
  const button = $('#restore-confirm');
  button.disabled = true;
  try {
    const started = await api('POST', `/backups/${asked.backup.id}/restore`, { body: { ...asked.preview.request, confirm: true } });
    $('#restore-dialog').close();
    toast(`Restore of ${asked.backup.filename} started`);
    follow({
      matches: (op) => op.id === started.id,
      check: async () => {
        const now = await api('GET', `/restores/${started.id}`);
        return now.status === 'running' ? null : now;
      },
      done: (done) => {
        if (done?.status === 'completed') toast(`Restore completed in ${duration(done.durationMs)}`);
        else toast(`Restore failed: ${done?.error ?? 'unknown error'}`, 'error');
        onStarted();
      },
    });
    onStarted();
  } catch (e) {
    fill($('#restore-error'), e.message);
    $('#restore-error').hidden = false;
    button.disabled = false;
  }
}

function hideError() {
  fill($('#restore-error'));
  $('#restore-error').hidden = true;
}
