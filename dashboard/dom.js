/**
 * Building the page from data: elements are made with text nodes, never with innerHTML, so a reason
 * or an event detail from the API cannot inject markup.
 */

function build(element, attributes, children) {
  for (const [name, value] of Object.entries(attributes ?? {})) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith('on') && typeof value === 'function') element.addEventListener(name.slice(2), value);
    else element.setAttribute(name, value === true ? '' : String(value));
  }
  for (const child of children.flat()) {
    if (child === undefined || child === null || child === false) continue;
    element.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return element;
}

/** An HTML element: h('td', { class: 'x' }, 'text', otherNode). */
export function h(tag, attributes, ...children) {
  return build(document.createElement(tag), attributes, children);
}

const SVG_NS = 'http://www.w3.org/2000/svg';

/** An SVG element. */
export function svg(tag, attributes, ...children) {
  return build(document.createElementNS(SVG_NS, tag), attributes, children);
}

/**
 * Replaces a container's content, keeping keyboard focus on the element with the same `data-key`
 * (the page redraws every poll; a focused matrix cell must stay focused).
 */
export function replace(container, ...children) {
  const focused = container.contains(document.activeElement)
    ? document.activeElement?.dataset?.key
    : undefined;
  container.replaceChildren(...children.flat());
  if (focused !== undefined) container.querySelector(`[data-key="${CSS.escape(focused)}"]`)?.focus();
}

/** `12:03:04` (UTC) from an ISO time. */
export function clock(iso) {
  return iso ? new Date(iso).toISOString().slice(11, 19) : '';
}

/** `1.3 s`, `420 ms`, `2 min 5 s` */
export function duration(ms) {
  if (!Number.isFinite(ms)) return '';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  return `${Math.floor(ms / 60_000)} min ${Math.round((ms % 60_000) / 1000)} s`;
}

export function percent(fraction) {
  return `${Math.round(fraction * 100)} %`;
}
