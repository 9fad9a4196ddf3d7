// The audit log: every change, download and refused call, newest first, filtered and paged.

import { api } from './api.js';
import { $, badge, fill, h } from './dom.js';
import { dateTime } from './format.js';

const PAGE_SIZE = 50;
const state = { offset: 0, total: 0 };

export function initAudit() {
  $('#audit-filters').addEventListener('submit', (event) => {
    event.preventDefault();
    state.offset = 0;
    void loadAudit();
  });
  $('#audit-outcome').addEventListener('change', () => {
    state.offset = 0;
    void loadAudit();
  });
  $('#audit-prev').addEventListener('click', () => turn(-1));
  $('#audit-next').addEventListener('click', () => turn(1));
}

function turn(direction) {
  const next = state.offset + direction * PAGE_SIZE;
  if (next < 0 || next >= state.total) return;
  state.offset = next;
  void loadAudit();
}

export async function loadAudit() {
  const error = $('#audit-error');
  try {
    const { items, total } = await api('GET', '/audit', {
      params: { limit: PAGE_SIZE, offset: state.offset, action: $('#audit-action').value.trim(), actor: $('#audit-actor').value.trim(), outcome: $('#audit-outcome').value },
    });
    error.hidden = true;
    state.total = total;
    fill($('#audit-table tbody'), items.length ? items.map(row) : h('tr', {}, h('td', { colspan: 7, className: 'muted empty' }, 'No entries match.')));
    fill($('#audit-info'), `${total ? state.offset + 1 : 0}–${state.offset + items.length} of ${total}`);
    $('#audit-prev').disabled = state.offset === 0;
    $('#audit-next').disabled = state.offset + PAGE_SIZE >= total;
  } catch (e) {
    fill(error, `Could not load the audit log: ${e.message}`);
    error.hidden = false;
  }
}

const OUTCOME_KIND = { success: 'completed', failure: 'failed', denied: 'warn' };

function row(entry) {
  const detail = entry.detail ? JSON.stringify(entry.detail, null, 2) : null;
  const d = entry.detail ?? {};
  const summary = [d.reason, [d.error].flat().filter((v) => typeof v === 'string').join('; '), d.path && `${d.method ?? ''} ${d.path}`.trim()].find((v) => typeof v === 'string' && v) ?? 'detail';
  return h('tr', { dataset: { action: entry.action, outcome: entry.outcome } },
    h('td', {}, dateTime(entry.createdAt)),
    h('td', {}, h('code', {}, entry.action)),
    h('td', {}, entry.actor ?? h('span', { className: 'muted' }, 'anonymous')),
    h('td', {}, badge(entry.outcome, OUTCOME_KIND[entry.outcome] ?? 'plain')),
    h('td', { className: 'mono' }, entry.target ?? ''),
    h('td', { className: 'mono' }, entry.ip ?? ''),
    h('td', {}, detail ? h('details', {}, h('summary', {}, summary), h('pre', {}, detail)) : ''),
  );
}
