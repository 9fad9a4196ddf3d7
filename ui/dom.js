// Tiny DOM helpers: every element is built with createElement and text nodes, never innerHTML,
// so nothing from the API is ever parsed as markup (and the page needs no inline script or style).

const SVG_NS = 'http://www.w3.org/2000/svg';

function build(element, attrs, children) {
  for (const [name, value] of Object.entries(attrs ?? {})) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith('on') && typeof value === 'function') element.addEventListener(name.slice(2), value);
    else if (name === 'dataset') Object.assign(element.dataset, value);
    else if (name === 'className') element.setAttribute('class', value);
    else element.setAttribute(name, value === true ? '' : String(value));
  }
  append(element, children);
  return element;
}

function append(element, children) {
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    element.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

/** `h('button', { className: 'small', onclick }, 'Verify')` */
export function h(tag, attrs, ...children) {
  return build(document.createElement(tag), attrs, children);
}

export function s(tag, attrs, ...children) {
  return build(document.createElementNS(SVG_NS, tag), attrs, children);
}

export function $(selector, root = document) {
  const element = root.querySelector(selector);
  if (!element) throw new Error(`missing element ${selector}`);
  return element;
}

/** Replaces the element's children. */
export function fill(element, ...children) {
  element.replaceChildren();
  append(element, children);
  return element;
}

export function badge(text, kind = '', title) {
  return h('span', { className: `badge ${kind}`.trim(), title }, text);
}

/** A short-lived message in the corner; errors stay until dismissed. */
export function toast(message, kind = 'info') {
  const box = $('#toasts');
  const item = h('div', { className: `toast ${kind}`, role: kind === 'error' ? 'alert' : 'status' }, h('span', {}, message),
    h('button', { className: 'link', 'aria-label': 'Dismiss', onclick: () => item.remove() }, '×'));
  box.append(item);
  if (kind !== 'error') setTimeout(() => item.remove(), 6000);
}
