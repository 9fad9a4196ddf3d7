// The running operation, as the server pushes it (server-sent events): a progress bar with bytes,
// rate and elapsed time, a cancel button, and the outcome of operations this page started.

import { api, can, operationEvents } from './api.js';
import { $, badge, fill, h, toast } from './dom.js';
import { bytes, duration, rate } from './format.js';

const CANCELLABLE = ['backup', 'restore', 'drill', 'scrub'];
const LABELS = { backup: 'Backup', restore: 'Restore', drill: 'Restore drill', scrub: 'Scrub', cleanup: 'Cleanup', delete: 'Delete', import: 'Import', upload: 'Upload' };
/** A started operation not seen in the stream yet (it may have ended between two reads) is looked up this often. */
const UNSEEN_CHECK_MS = 2000;

let current = { locked: false, operation: null };
let sample = null; // { id, bytes, at, rate }
let eventsReceived = 0;
let stream = null;
const pending = new Set();
const finishedListeners = new Set();
/** The panel is built once per operation and then only updated, so the bar's animation and the buttons stay put. */
let shown = null; // { key, progress, bytes, rate, elapsed }

/** Called after any operation ends (the lists may have changed). */
export function onOperationFinished(listener) {
  finishedListeners.add(listener);
}

/** Starts listening; `stop()` ends it (sign-out). */
export function startOperationStream() {
  stopOperationStream();
  const controller = new AbortController();
  stream = controller;
  operationEvents({ onEvent: receive, onState: showConnection, signal: controller.signal });
  const tick = setInterval(render, 1000);
  controller.signal.addEventListener('abort', () => clearInterval(tick));
}

export function stopOperationStream() {
  stream?.abort();
  stream = null;
  for (const item of pending) clearTimeout(item.timer);
  pending.clear();
  current = { locked: false, operation: null };
  render();
}

/**
 * Follows an operation this page started until it ends, then hands `check()`'s result to `done`.
 * `matches(op)` tells it in the stream; `check()` returns a result once it has ended, else null.
 * `estimate` (bytes), when known, turns the bar into a percentage.
 */
export function follow({ matches, check, done, estimate }) {
  const item = { matches, check, done, estimate, seen: false, timer: 0 };
  pending.add(item);
  const lookUp = async () => {
    if (!pending.has(item) || item.seen) return;
    await settle(item);
    if (pending.has(item) && !item.seen) item.timer = setTimeout(lookUp, UNSEEN_CHECK_MS);
  };
  item.timer = setTimeout(lookUp, UNSEEN_CHECK_MS);
  if (current.operation && matches(current.operation)) item.seen = true;
  render();
}

async function settle(item) {
  try {
    const result = await item.check();
    // not ended yet, unless the stream saw it end: then `done(null)`, its outcome unknown
    if (!pending.has(item) || (result === null && !item.seen)) return;
    pending.delete(item);
    clearTimeout(item.timer);
    item.done(result);
  } catch (error) {
    pending.delete(item);
    clearTimeout(item.timer);
    toast(error.message, 'error');
  }
}

function receive(state) {
  eventsReceived += 1;
  const before = current.operation;
  current = state;
  const op = state.operation;
  if (op) {
    const now = Date.now();
    if (!sample || sample.id !== op.id) sample = { id: op.id, bytes: op.bytesDone, at: now, rate: 0 };
    else if (op.bytesDone !== sample.bytes) {
      const instant = ((op.bytesDone - sample.bytes) * 1000) / Math.max(1, now - sample.at);
      sample = { id: op.id, bytes: op.bytesDone, at: now, rate: sample.rate ? sample.rate * 0.5 + instant * 0.5 : instant };
    }
  } else sample = null;
  for (const item of pending) {
    if (op && item.matches(op)) item.seen = true;
    else if (item.seen) void settle(item);
  }
  if (before && (!op || op.id !== before.id)) for (const listener of finishedListeners) listener(before);
  render();
}

function showConnection(state, error) {
  const live = $('#live');
  live.dataset.state = state;
  live.dataset.events = String(eventsReceived);
  live.textContent = state === 'live' ? 'live' : state === 'connecting' ? 'reconnecting…' : 'offline';
  live.title = error ? `progress stream: ${error.message}` : 'progress of the running operation, pushed by the server';
}

function estimateFor(op) {
  for (const item of pending) if (item.estimate && item.matches(op)) return item.estimate;
  return null;
}

function render() {
  const panel = $('#operation');
  $('#live').dataset.events = String(eventsReceived);
  const op = current.operation;
  panel.hidden = !current.locked;
  if (!current.locked) {
    shown = null;
    return;
  }
  if (!op) {
    if (shown?.key !== 'anonymous') fill(panel, h('p', {}, 'An operation holds the lock (its details are not recorded yet)…'));
    shown = { key: 'anonymous' };
    return;
  }
  const estimate = estimateFor(op);
  const key = `${op.id}:${op.irrevocable}:${estimate ?? ''}`;
  if (shown?.key !== key) shown = build(panel, op, estimate, key);
  if (estimate) shown.progress.value = Math.min(op.bytesDone, estimate * 0.99);
  shown.bytes.textContent = `${bytes(op.bytesDone)}${estimate ? ` of ~${bytes(estimate)}` : ''}`;
  shown.rate.textContent = rate(sample?.id === op.id ? sample.rate : 0);
  shown.elapsed.textContent = duration(Math.max(0, Date.now() - new Date(op.startedAt).getTime()));
}

function build(panel, op, estimate, key) {
  const label = LABELS[op.type] ?? op.type;
  const progress = h('progress', { id: 'operation-progress', max: estimate ? String(estimate) : undefined, 'aria-label': `${label} progress` });
  const figures = { bytes: h('dd', { id: 'operation-bytes' }), rate: h('dd', {}), elapsed: h('dd', {}) };
  const cancellable = CANCELLABLE.includes(op.type) && !op.irrevocable;
  fill(
    panel,
    h('div', { className: 'operation-head' },
      h('strong', {}, `${label} running`),
      h('span', { className: 'muted' }, `started by ${op.startedBy}`),
      op.irrevocable ? badge('committing', 'warn', 'past its point of no return: it can no longer be cancelled') : null,
      can('operation.cancel') ? h('button', { id: 'cancel-operation', type: 'button', className: 'danger small', disabled: !cancellable, onclick: cancel }, 'Cancel') : null,
    ),
    progress,
    h('dl', { className: 'operation-figures' },
      h('dt', {}, 'written'), figures.bytes,
      h('dt', {}, 'rate'), figures.rate,
      h('dt', {}, 'elapsed'), figures.elapsed,
    ),
  );
  return { key, progress, ...figures };
}

async function cancel(event) {
  const button = event.currentTarget;
  button.disabled = true;
  button.textContent = 'Cancelling…';
  try {
    const result = await api('POST', '/operations/current/cancel');
    toast(result.stopped ? `${result.operation.type} cancelled` : `${result.operation.type} is stopping…`);
  } catch (error) {
    toast(`Cancel refused: ${error.message}`, 'error');
    button.disabled = false;
    button.textContent = 'Cancel';
  }
}
