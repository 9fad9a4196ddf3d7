// The backups view: stats, the size/duration chart, "back up now", the filtered and paged table,
// and each backup's actions (download, verify, pin, drill, contents, restore, delete).

import { api, can, download } from './api.js';
import { historyChart } from './chart.js';
import { confirmDialog, showResult } from './dialogs.js';
import { $, badge, fill, h, toast } from './dom.js';
import { bytes, dateTime, duration, relative } from './format.js';
import { follow } from './operation.js';
import { initRestore, openRestore, showContents } from './restore.js';

const PAGE_SIZE = 20;
const CHART_POINTS = 60;

const state = { type: '', status: '', offset: 0, total: 0, lastCompletedSize: null };

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
  initRestore(() => void loadBackups());
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
  /** An action the token may take; none otherwise. */
  const button = (permission, label, onclick, attrs = {}) =>
    permission === null || can(permission) ? h('button', { className: 'small', type: 'button', onclick, ...attrs }, label) : null;
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
      button(null, 'Details', () => void showDetails(b)),
      button('backup.download', 'Download', () => void save(b), { disabled: !completed }),
      button('backup.verify', 'Verify', (e) => void verify(b, e.currentTarget), { disabled: !completed }),
      button('backup.pin', b.pinned ? 'Unpin' : 'Pin', () => void pin(b), { disabled: b.status === 'running' }),
      button('backup.drill', 'Drill', () => void drill(b), { disabled: !completed, title: 'restore into a scratch database and compare row counts' }),
      button('backups.read', 'Contents', () => void showContents(b), { disabled: !completed, title: 'what the backup holds: schemas, tables with row counts and sizes, other objects' }),
      button('backup.restore', 'Restore', () => openRestore(b), { disabled: !completed || b.damaged, className: 'small warn' }),
      button('backup.delete', 'Delete', () => void remove(b), { disabled: b.status === 'running', className: 'small danger' }),
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

/** The list's items leave out the per-table figures: the details come from the backup itself. */
async function showDetails(listed) {
  let b;
  try {
    b = await api('GET', `/backups/${listed.id}`);
  } catch (e) {
    toast(`Backup ${listed.filename}: ${e.message}`, 'error');
    return;
  }
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

