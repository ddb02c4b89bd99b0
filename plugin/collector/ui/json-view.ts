/** JSON shown as an indented tree of elements, with the fields at `highlight` (JSON paths such as `$.a[0].b`) marked. */
import { h } from './dom.js';

export function jsonView(value: unknown, highlight: ReadonlySet<string> = new Set()): HTMLElement {
  const root = h('pre', { class: 'json' });
  render(root, value, '$', 0, highlight);
  return root;
}

function render(parent: HTMLElement, value: unknown, path: string, depth: number, highlight: ReadonlySet<string>): void {
  if (value === null || typeof value !== 'object') {
    parent.append(h('span', { class: `json-${value === null ? 'null' : typeof value}` }, JSON.stringify(value) ?? 'undefined'));
    return;
  }
  const entries: Array<[string, unknown, string]> = Array.isArray(value)
    ? value.map((item, i) => [String(i), item, `${path}[${i}]`])
    : Object.entries(value).map(([key, item]) => [key, item, /^[A-Za-z_$][\w$]*$/.test(key) ? `${path}.${key}` : `${path}['${key}']`]);
  const [open, close] = Array.isArray(value) ? ['[', ']'] : ['{', '}'];
  if (entries.length === 0) {
    parent.append(`${open}${close}`);
    return;
  }
  parent.append(open);
  const indent = '  '.repeat(depth + 1);
  entries.forEach(([key, item, itemPath], i) => {
    const line = h('span', { class: highlight.has(itemPath) ? 'json-line json-error' : 'json-line', 'data-path': itemPath });
    line.append(`\n${indent}`);
    if (!Array.isArray(value)) line.append(h('span', { class: 'json-key' }, JSON.stringify(key)), ': ');
    render(line, item, itemPath, depth + 1, highlight);
    if (i < entries.length - 1) line.append(',');
    parent.append(line);
  });
  parent.append(`\n${'  '.repeat(depth)}${close}`);
}
