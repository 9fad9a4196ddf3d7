// The admin page: sign-in with a pasted (or host-provided) token, three views, and the
// running operation pushed by the server. Plain ES modules, no build step.

import { accessLevel, api, apiBase, can, onUnauthorized, setAccess, token } from './api.js';
import { initAudit, loadAudit } from './audit.js';
import { initBackups, loadBackups } from './backups.js';
import { wireResultDialog } from './dialogs.js';
import { $, fill } from './dom.js';
import { onOperationFinished, startOperationStream, stopOperationStream } from './operation.js';
import { initSettings, loadSettings } from './settings.js';

const VIEWS = { backups: loadBackups, settings: loadSettings, audit: loadAudit };
let view = 'backups';
let signedIn = false;

function showView(name) {
  view = name in VIEWS ? name : 'backups';
  for (const key of Object.keys(VIEWS)) {
    $(`#view-${key}`).hidden = key !== view;
    $(`#tab-${key}`).setAttribute('aria-selected', String(key === view));
  }
  if (location.hash !== `#${view}`) history.replaceState(null, '', `#${view}`);
  if (signedIn) void VIEWS[view]();
}

function authError(message) {
  const box = $('#auth-error');
  fill(box, message);
  box.hidden = !message;
}

function signedOut(message = '') {
  signedIn = false;
  setAccess(null);
  stopOperationStream();
  document.body.dataset.auth = 'signed-out';
  $('#token-form').hidden = false;
  $('#signed-in').hidden = true;
  $('#content').hidden = true;
  authError(message);
  $('#token-input').focus();
}

/** Shows only what the token may do: static controls name their permission in `data-permission`. */
function applyAccess() {
  document.body.dataset.level = accessLevel() ?? '';
  for (const element of document.querySelectorAll('[data-permission]')) element.hidden = !can(element.dataset.permission);
  $('#settings-fields').disabled = !can('config.update');
}

/** Asks the server who the token is and what it may do; a 401 or 403 explains itself, nothing is kept. */
async function signIn() {
  const value = token.get();
  if (!value) return signedOut();
  let me;
  try {
    me = await api('GET', '/me');
  } catch (e) {
    token.clear();
    setAccess(null);
    if (e.status === 401) return signedOut(`The server refused this token (${e.message}). Paste a valid, unexpired token.`);
    if (e.status === 403) return signedOut(`This token is valid but carries no role of this API (${e.message}).`);
    return signedOut(`Could not check the token: ${e.message}`);
  }
  setAccess(me);
  applyAccess();
  signedIn = true;
  document.body.dataset.auth = 'signed-in';
  authError('');
  $('#token-form').hidden = true;
  $('#signed-in').hidden = false;
  $('#content').hidden = false;
  fill($('#whoami'), `signed in as ${me.sub} (${me.level})`);
  startOperationStream();
  showView(view);
}

function main() {
  // a host app (or the dev server's link) may hand the token over in the fragment, never sent to a server
  const fragment = new URLSearchParams(location.hash.slice(1));
  if (fragment.get('token')) {
    token.set(fragment.get('token'));
    history.replaceState(null, '', `${location.pathname}${location.search}#backups`);
  }
  view = location.hash.slice(1) in VIEWS ? location.hash.slice(1) : 'backups';
  fill($('#api-base'), apiBase);

  $('#token-form').addEventListener('submit', (event) => {
    event.preventDefault();
    const value = $('#token-input').value.trim();
    if (!value) return authError('Paste an admin token (a JWT) first.');
    token.set(value);
    $('#token-input').value = '';
    void signIn();
  });
  $('#sign-out').addEventListener('click', () => {
    token.clear();
    signedOut('Signed out. The token was removed from this tab.');
  });
  for (const key of Object.keys(VIEWS)) $(`#tab-${key}`).addEventListener('click', () => showView(key));
  window.addEventListener('hashchange', () => showView(location.hash.slice(1)));
  onUnauthorized((error) => {
    if (!signedIn) return;
    token.clear();
    signedOut(`The server no longer accepts the token (${error.message}). Paste a new one.`);
  });
  onOperationFinished(() => {
    if (signedIn && view === 'backups') void loadBackups();
  });

  initBackups();
  initSettings();
  initAudit();
  wireResultDialog();
  void signIn();
}

main();
