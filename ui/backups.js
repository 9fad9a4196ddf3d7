// The backups view: stats, the size/duration chart, "back up now", the filtered and paged table,
// and each backup's actions (download, verify, pin, drill, restore, delete).

import { api, download } from './api.js';
import { historyChart } from './chart.js';
import { confirmDialog, showResult } from './dialogs.js';
import { $, badge, fill, h, toast } from './dom.js';
import { bytes, dateTime, duration, relative } from './format.js';
import { follow } from './operation.js';

const PAGE_SIZE = 20;
const CHART_POINTS = 60;

const state = { type: '', status: '', offset: 0, total: 0, lastCompletedSize: null };
let restoreTarget = null;

export function initBackups() {
  $('#create-form').addEventListener('submit', create);
  for (const [id, key] of [['#filter-type', 'type'], ['#filter-status', 'status']]) {
    $(id).addEventListener('change', (event) => {
      state[key] = event.currentTarget.value;
      state.offset = 0;
      void loadBackups();
    });
  }
  $('#page-prev').addEventListener('click', () => page(-1));
  $('#page-next').addEventListener('click', () => page(1));
  $('#backups-refresh').addEventListener('click', () => void loadBackups());
  const input = $('#restore-confirm-input');
  input.addEventListener('input', () => {
    $('#restore-confirm').disabled = !restoreTarget || input.value !== restoreTarget.expected;
  });
  $('#restore-form').addEventListener('submit', (event) => {
    event.preventDefault();
    void restore();
  });
  $('#restore-cancel').addEventListener('click', () => $('#restore-dialog').close());
}

function page(direction) {
  const next = state.offset + direction * PAGE_SIZE;
  if (next < 0 || next >= state.total) return;
  state.offset = next;
  void loadBackups();
}

export async function loadBackups() {
  const error = $('#backups-error');
  try {
    const [list, stats, history] = await Promise.all([
      api('GET', '/backups', { params: { limit: PAGE_SIZE, offset: state.offset, type: state.type, status: state.status } }),
      api('GET', '/backups/stats'),
      api('GET', '/backups', { params: { status: 'completed', limit: CHART_POINTS } }),
    ]);
    error.hidden = true;
    state.total = list.total;
    state.lastCompletedSize = history.items[0]?.sizeBytes ?? null;
    renderStats(stats);
    fill($('#chart'), historyChart(history.items));
    renderTable(list);
  } catch (e) {
    fill(error, `Could not load the backups: ${e.message}`);
    error.hidden = false;
  }
}

function renderStats(stats) {
  const card = (label, value, detail) => h('div', { className: 'card' }, h('div', { className: 'card-label' }, label), h('div', { className: 'card-value' }, value), detail ? h('div', { className: 'muted' }, detail) : null);
  fill(
    $('#stats'),
    card('Backups', String(stats.count), `${stats.byStatus?.completed ?? 0} completed · ${stats.byStatus?.failed ?? 0} failed`),
    card('Stored', bytes(stats.totalBytes)),
    card('Last success', relative(stats.lastSuccessAt), stats.lastSuccessAt ? dateTime(stats.lastSuccessAt) : 'none yet'),
    card('Last failure', relative(stats.lastFailureAt), stats.lastFailureAt ? dateTime(stats.lastFailureAt) : 'none'),
  );
}

function renderTable({ items, total }) {
  const body = $('#backups-table tbody');
  fill(body, items.length ? items.map(row) : h('tr', {}, h('td', { colspan: 9, className: 'muted empty' }, state.type || state.status ? 'No backup matches these filters.' : 'No backups yet. Make the first one above.')));
  const first = total ? state.offset + 1 : 0;
  fill($('#page-info'), `${first}–${state.offset + items.length} of ${total}`);
  $('#page-prev').disabled = state.offset === 0;
  $('#page-next').disabled = state.offset + PAGE_SIZE >= total;
}

function statusBadge(b) {
  if (b.status === 'completed' && b.damaged) return badge('damaged', 'failed', b.error ?? 'no intact copy found');
  return badge(b.status, b.status, b.error ?? undefined);
}

function row(b) {
  const completed = b.status === 'completed';
  const button = (label, onclick, attrs = {}) => h('button', { className: 'small', type: 'button', onclick, ...attrs }, label);
  return h('tr', { dataset: { id: b.id, status: b.status } },
    h('td', {}, statusBadge(b), b.pinned ? badge('pinned', 'pinned', 'kept by retention') : null, h('div', { className: 'muted' }, b.type)),
    h('td', { className: 'created', title: dateTime(b.createdAt) }, relative(b.createdAt), h('div', { className: 'muted' }, dateTime(b.createdAt))),
    h('td', { className: 'num' }, completed ? bytes(b.sizeBytes) : '—'),
    h('td', { className: 'num' }, duration(b.durationMs)),
    h('td', {},
      badge(b.compression, 'plain', 'compression'),
      b.encrypted ? badge('encrypted', 'secure', 'age encryption') : null,
      b.archived ? badge('archived', 'plain', b.archivePath ?? undefined) : null,
      (b.copies ?? []).map((c) => badge(`${c.storage} copy ${c.state === 'ok' ? '✓' : '✗'}`, c.state === 'ok' ? 'completed' : 'failed', c.error ?? c.location))),
    h('td', { className: 'state' }, verifiedCell(b)),
    h('td', { className: 'state' }, drillCell(b)),
    h('td', { className: 'notes' }, b.notes ? h('div', {}, b.notes) : null, (b.tags ?? []).map((t) => badge(t, 'tag'))),
    h('td', { className: 'actions' },
      button('Details', () => showDetails(b)),
      button('Download', () => void save(b), { disabled: !completed }),
      button('Verify', (e) => void verify(b, e.currentTarget), { disabled: !completed }),
      button(b.pinned ? 'Unpin' : 'Pin', () => void pin(b), { disabled: b.status === 'running' }),
      button('Drill', () => void drill(b), { disabled: !completed, title: 'restore into a scratch database and compare row counts' }),
      button('Restore', () => openRestore(b), { disabled: !completed || b.damaged, className: 'small warn' }),
      button('Delete', () => void remove(b), { disabled: b.status === 'running', className: 'small danger' }),
    ),
  );
}

function verifiedCell(b) {
  if (b.damaged) return badge('✗ damaged', 'failed', b.error ?? undefined);
  if (b.verifiedAt) return h('span', { title: dateTime(b.verifiedAt) }, '✓ ', relative(b.verifiedAt));
  return h('span', { className: 'muted' }, 'not yet');
}

function drillCell(b) {
  if (!b.drill) return h('span', { className: 'muted' }, '—');
  return h('button', { className: `link ${b.drill.ok ? 'ok' : 'bad'}`, type: 'button', title: dateTime(b.drill.at), onclick: () => showDrill(b) },
    b.drill.ok ? '✓ passed' : '✗ failed');
}

async function create(event) {
  event.preventDefault();
  const notes = $('#create-notes').value.trim();
  const tags = $('#create-tags').value.split(/[\s,]+/).filter(Boolean);
  const error = $('#create-error');
  const submit = $('#create-button');
  submit.disabled = true;
  try {
    const backup = await api('POST', '/backups', { body: { ...(notes && { notes }), ...(tags.length && { tags }) } });
    error.hidden = true;
    $('#create-form').reset();
    toast('Backup started');
    follow({
      matches: (op) => op.id === backup.id,
      estimate: state.lastCompletedSize,
      check: async () => {
        const now = await api('GET', `/backups/${backup.id}`);
        return now.status === 'running' ? null : now;
      },
      done: (done) => {
        if (done?.status === 'completed') toast(`Backup completed: ${bytes(done.sizeBytes)} in ${duration(done.durationMs)}`);
        else toast(`Backup failed: ${done?.error ?? 'see the table'}`, 'error');
        void loadBackups();
      },
    });
    void loadBackups();
  } catch (e) {
    fill(error, e.messages.length > 1 ? h('ul', {}, e.messages.map((m) => h('li', {}, m))) : e.message);
    error.hidden = false;
  } finally {
    submit.disabled = false;
  }
}

async function save(b) {
  try {
    if (await download(`/backups/${b.id}/download`, b.filename)) toast(`Downloading ${b.filename}`);
  } catch (e) {
    toast(`Download failed: ${e.message}`, 'error');
  }
}

async function verify(b, button) {
  button.disabled = true;
  button.textContent = 'Verifying…';
  try {
    const report = await api('POST', `/backups/${b.id}/verify`);
    showResult(
      report.valid ? `✓ ${b.filename} is intact` : `✗ ${b.filename} failed verification`,
      h('ul', { className: 'checks', id: 'verify-checks' },
        report.checks.map((c) => h('li', { className: c.ok ? 'ok' : 'bad' }, h('strong', {}, `${c.ok ? '✓' : '✗'} ${c.name}`), c.detail ? h('span', { className: 'muted' }, ` — ${c.detail}`) : null)),
      ),
    );
  } catch (e) {
    toast(`Verify failed: ${e.message}`, 'error');
  } finally {
    void loadBackups();
  }
}

async function pin(b) {
  try {
    await api('PATCH', `/backups/${b.id}`, { body: { pinned: !b.pinned } });
    toast(b.pinned ? 'Unpinned: retention may delete it again' : 'Pinned: retention keeps it');
  } catch (e) {
    toast(`Pin failed: ${e.message}`, 'error');
  }
  void loadBackups();
}

async function remove(b) {
  const ok = await confirmDialog({
    title: 'Delete this backup?',
    body: [
      h('p', {}, `${b.filename}, made ${dateTime(b.createdAt)} (${bytes(b.sizeBytes)}).`),
      h('p', {}, 'The file and its copies are removed. This cannot be undone.'),
      b.pinned ? h('p', { className: 'warn-text' }, 'It is pinned: you asked to keep it.') : null,
    ],
    ok: 'Delete',
    danger: true,
  });
  if (!ok) return;
  try {
    await api('DELETE', `/backups/${b.id}`);
    toast(`Deleted ${b.filename}`);
  } catch (e) {
    toast(`Delete failed: ${e.message}`, 'error');
  }
  void loadBackups();
}

async function drill(b) {
  const previous = b.drill?.at ?? null;
  try {
    await api('POST', `/backups/${b.id}/drill`);
  } catch (e) {
    toast(`Drill refused: ${e.message}`, 'error');
    return;
  }
  toast('Restore drill started');
  follow({
    matches: (op) => op.type === 'drill',
    check: async () => {
      const now = await api('GET', `/backups/${b.id}`);
      return now.drill && now.drill.at !== previous ? now : null;
    },
    done: (done) => {
      if (done) showDrill(done);
      else toast('The drill ended without recording a result', 'error');
      void loadBackups();
    },
  });
}

function showDrill(b) {
  const d = b.drill;
  showResult(
    d.ok ? '✓ Restore drill passed' : '✗ Restore drill failed',
    h('dl', { className: 'facts' },
      h('dt', {}, 'backup'), h('dd', {}, b.filename),
      h('dt', {}, 'when'), h('dd', {}, dateTime(d.at)),
      h('dt', {}, 'scratch database'), h('dd', {}, d.database),
      h('dt', {}, 'restore took'), h('dd', {}, duration(d.restoreMs)),
      h('dt', {}, 'whole drill'), h('dd', {}, duration(d.durationMs)),
      d.error ? [h('dt', {}, 'error'), h('dd', { className: 'bad' }, d.error)] : null,
    ),
    d.tables?.length
      ? h('table', { className: 'compact', id: 'drill-tables' },
          h('thead', {}, h('tr', {}, ['table', 'rows at backup', 'rows restored', ''].map((t) => h('th', {}, t)))),
          h('tbody', {}, d.tables.map((t) => h('tr', {},
            h('td', {}, t.name),
            h('td', { className: 'num' }, `${t.exact ? '' : '~'}${t.expected}`),
            h('td', { className: 'num' }, t.actual ?? '—'),
            h('td', {}, t.ok ? badge('✓', 'completed') : badge('✗', 'failed'), t.exact ? null : badge('estimate', 'plain', 'a large table: the planner\u2019s estimate, not compared'))))))
      : h('p', { className: 'muted' }, 'No tables compared.'),
  );
}

function showDetails(b) {
  const meta = b.metadata;
  const fact = (label, value) => (value === null || value === undefined || value === '' ? null : [h('dt', {}, label), h('dd', {}, value)]);
  showResult(
    `Backup ${b.filename}`,
    h('dl', { className: 'facts' },
      fact('id', b.id),
      fact('status', b.status),
      fact('type', b.type),
      fact('created by', b.createdBy),
      fact('created', dateTime(b.createdAt)),
      fact('finished', b.finishedAt && dateTime(b.finishedAt)),
      fact('duration', b.durationMs !== null ? duration(b.durationMs) : null),
      fact('size', bytes(b.sizeBytes)),
      fact('sha256', b.sha256),
      fact('format', `${b.compression}${b.encrypted ? ' + age encryption' : ''}`),
      fact('database', meta?.database),
      fact('server', meta?.serverVersion),
      fact('pg_dump', meta?.pgDumpVersion),
      fact('tables', meta?.tables ? String(Object.keys(meta.tables).length) : null),
      fact('files part', b.files && `${b.files.filename} (${bytes(b.files.sizeBytes)}): ${b.files.paths.join(', ')}`),
      fact('copies', b.copies?.length ? b.copies.map((c) => `${c.storage} ${c.state}: ${c.location}${c.error ? ` (${c.error})` : ''}`).join('; ') : null),
      fact('verified', b.verifiedAt && dateTime(b.verifiedAt)),
      fact('last drill', b.drill && `${b.drill.ok ? 'passed' : 'failed'} ${dateTime(b.drill.at)}`),
      fact('pinned', b.pinned ? 'yes' : null),
      fact('notes', b.notes),
      fact('tags', b.tags?.length ? b.tags.join(', ') : null),
      fact('error', b.error),
    ),
  );
}

/** What the admin must type: the database the backup came from (its file name when that is unknown). */
function openRestore(b) {
  const database = b.metadata?.database ?? null;
  restoreTarget = { backup: b, expected: database ?? b.filename };
  const dialog = $('#restore-dialog');
  fill($('#restore-summary'),
    'This replaces the entire content of database ', h('strong', {}, database ?? '(unknown)'),
    ' with backup ', h('strong', {}, b.filename), `, taken ${dateTime(b.createdAt)} (${relative(b.createdAt)}).`);
  fill($('#restore-loss'),
    h('li', {}, `Everything written since ${dateTime(b.createdAt)} is lost: new and changed rows, and tables, schemas, functions and other objects created since.`),
    h('li', {}, 'Sessions that keep locks on the database are terminated after a short grace period.'),
    h('li', {}, 'A safety backup of the current content is taken first: restoring it undoes this restore.'),
    h('li', {}, 'The backup history, audit log and settings are not touched.'));
  $('#restore-files-row').hidden = !b.files;
  $('#restore-files').checked = false;
  fill($('#restore-expected'), restoreTarget.expected);
  const input = $('#restore-confirm-input');
  input.value = '';
  $('#restore-confirm').disabled = true;
  fill($('#restore-error'));
  $('#restore-error').hidden = true;
  dialog.showModal();
  input.focus();
  void loadPreview(restoreTarget);
}

/** The dry run: what the restore would change, shown before the name is typed; nothing changes. */
async function loadPreview(target) {
  const box = $('#restore-preview');
  fill(box, h('p', { className: 'muted' }, 'Checking what this restore would change…'));
  let p;
  try {
    p = await api('POST', `/backups/${target.backup.id}/restore`, { body: { dryRun: true } });
  } catch (e) {
    if (restoreTarget === target) fill(box, h('p', { className: 'warn-text' }, `No preview: ${e.message}`));
    return;
  }
  if (restoreTarget !== target) return;
  const changed = p.tables.filter((t) => t.current !== t.backup);
  const rows = (n, estimated) => (n === null ? 'absent' : `${estimated ? '~' : ''}${n}`);
  const name = (o) => (o.schema === null ? o.name : `${o.schema}.${o.name}`);
  const warnings = [
    p.blockedBy && `A ${p.blockedBy.type} started by ${p.blockedBy.startedBy} is running: the restore can start once it has finished.`,
    p.locks && !p.locks.enough && `Needs about ${p.locks.needed} locks, the server allows ${p.locks.available}: set max_locks_per_transaction to ${p.locks.requiredMaxLocksPerTransaction} first.`,
    p.safetyBackup && !p.safetyBackup.enough && `The safety backup needs about ${bytes(p.safetyBackup.expectedBytes)}; ${bytes(p.safetyBackup.freeBytes)} free.`,
    p.roles?.toCreate.length && `Roles the backup needs that the server lacks: ${p.roles.toCreate.join(', ')}.`,
  ].filter(Boolean);
  fill(box,
    warnings.map((w) => h('p', { className: 'warn-text' }, w)),
    changed.length
      ? h('table', { className: 'compact', id: 'restore-preview-tables' },
          h('thead', {}, h('tr', {}, ['table', 'rows now', 'rows after'].map((t) => h('th', {}, t)))),
          h('tbody', {}, changed.map((t) => h('tr', {},
            h('td', {}, t.name),
            h('td', { className: 'num' }, rows(t.current, t.estimated)),
            h('td', { className: 'num' }, rows(t.backup, t.estimated))))))
      : h('p', { className: 'muted' }, `Every table keeps its row count (${p.tables.length} tables).`),
    p.vanishing.length
      ? h('p', { id: 'restore-preview-vanishing' }, h('strong', {}, 'Removed (made after the backup): '), p.vanishing.map((o) => `${o.kind.toLowerCase()} ${name(o)}`).join(', '))
      : null,
    h('p', { className: 'muted' }, p.estimatedDurationMs === null ? 'No past restore to estimate the duration from.' : `Takes about ${duration(p.estimatedDurationMs)}, judging by past restores.`),
  );
}

async function restore() {
  const target = restoreTarget;
  if (!target || $('#restore-confirm-input').value !== target.expected) return;
  const button = $('#restore-confirm');
  button.disabled = true;
  try {
    const files = !$('#restore-files-row').hidden && $('#restore-files').checked;
    const started = await api('POST', `/backups/${target.backup.id}/restore`, { body: { confirm: true, ...(files && { files: true }) } });
    $('#restore-dialog').close();
    toast(`Restore of ${target.backup.filename} started`);
    follow({
      matches: (op) => op.id === started.id,
      check: async () => {
        const now = await api('GET', `/restores/${started.id}`);
        return now.status === 'running' ? null : now;
      },
      done: (done) => {
        if (done?.status === 'completed') toast(`Restore completed in ${duration(done.durationMs)}`);
        else toast(`Restore failed: ${done?.error ?? 'unknown error'}`, 'error');
        void loadBackups();
      },
    });
    void loadBackups();
  } catch (e) {
    fill($('#restore-error'), e.message);
    $('#restore-error').hidden = false;
    button.disabled = false;
  }
}
