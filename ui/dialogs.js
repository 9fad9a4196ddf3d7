// Modal dialogs on <dialog>: a yes/no confirmation and a read-only result.

import { $, fill } from './dom.js';

/** Resolves true when the admin confirms, false on Cancel or Escape. */
export function confirmDialog({ title, body, ok = 'OK', danger = false }) {
  const dialog = $('#confirm-dialog');
  fill($('#confirm-title', dialog), title);
  fill($('#confirm-body', dialog), body);
  const button = $('#confirm-ok', dialog);
  button.textContent = ok;
  button.className = danger ? 'danger' : 'primary';
  return new Promise((resolve) => {
    const close = (answer) => {
      button.removeEventListener('click', yes);
      $('#confirm-cancel', dialog).removeEventListener('click', no);
      dialog.removeEventListener('cancel', no);
      if (dialog.open) dialog.close();
      resolve(answer);
    };
    const yes = () => close(true);
    const no = () => close(false);
    button.addEventListener('click', yes);
    $('#confirm-cancel', dialog).addEventListener('click', no);
    dialog.addEventListener('cancel', no);
    dialog.showModal();
  });
}

export function showResult(title, ...body) {
  const dialog = $('#result-dialog');
  fill($('#result-title', dialog), title);
  fill($('#result-body', dialog), ...body);
  if (!dialog.open) dialog.showModal();
}

export function wireResultDialog() {
  const dialog = $('#result-dialog');
  $('#result-close', dialog).addEventListener('click', () => dialog.close());
}
