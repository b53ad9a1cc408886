// A tiny element builder: screens are plain functions that build DOM with `h`, so there is
// no framework, no innerHTML (nothing to escape) and no inline style (the CSP forbids it).

export type Child = Node | string | number | null | undefined | false | Child[];
type Listener = (event: Event) => void;
export type Attrs = Record<string, string | number | boolean | null | undefined | Listener>;

// Set as properties: their attributes only give the initial state.
const PROPERTIES = new Set(['value', 'checked', 'disabled', 'hidden', 'open', 'selected', 'indeterminate']);

function setAttr(el: Element, key: string, value: Attrs[string]): void {
  if (typeof value === 'function') {
    el.addEventListener(key.slice(2), value);
  } else if (PROPERTIES.has(key) && key in el) {
    (el as unknown as Record<string, unknown>)[key] = value;
  } else if (value === true) {
    el.setAttribute(key, '');
  } else if (value !== false && value !== null && value !== undefined) {
    el.setAttribute(key, String(value));
  }
}

function append(parent: Node, children: Child[]): void {
  for (const child of children) {
    if (Array.isArray(child)) append(parent, child);
    else if (child instanceof Node) parent.appendChild(child);
    else if (child !== null && child !== undefined && child !== false) {
      parent.appendChild(document.createTextNode(String(child)));
    }
  }
}

/** An HTML element; `on…` keys with a function value become event listeners. */
export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Attrs = {},
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) setAttr(el, key, value);
  append(el, children);
  return el;
}

const SVG_NS = 'http://www.w3.org/2000/svg';

/** An SVG element; geometry goes in attributes (presentation attributes pass the CSP). */
export function s<K extends keyof SVGElementTagNameMap>(
  tag: K,
  attrs: Attrs = {},
  ...children: Child[]
): SVGElementTagNameMap[K] {
  const el = document.createElementNS(SVG_NS, tag);
  for (const [key, value] of Object.entries(attrs)) setAttr(el, key, value);
  append(el, children);
  return el;
}

/** Replaces the children of `parent`. */
export function replaceChildren(parent: Element, ...children: Child[]): void {
  parent.replaceChildren();
  append(parent, children);
}

/** Sets a text node's content only when it changed (cheap for per-frame updates). */
export function setText(el: Element, text: string): void {
  if (el.textContent !== text) el.textContent = text;
}

/** A numeric column's header (right-aligned, like its cells). */
export interface NumericColumn {
  numeric: string;
}

export const numeric = (label: string): NumericColumn => ({ numeric: label });

/** A table head of column headers. */
export function tableHead(...columns: (string | NumericColumn)[]): HTMLTableSectionElement {
  return h(
    'thead',
    {},
    h(
      'tr',
      {},
      columns.map((column) =>
        typeof column === 'string'
          ? h('th', { scope: 'col' }, column)
          : h('th', { scope: 'col', class: 'num' }, column.numeric),
      ),
    ),
  );
}
