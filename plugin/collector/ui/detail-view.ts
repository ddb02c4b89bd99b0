/** One event in full: for a failed event its errors first (each pointing at its field), then fields, entities and event data. */
import type { Row } from './api.js';
import { FAILURE_COLUMN, failures, shredded, type Failure } from './columns.js';
import { h } from './dom.js';
import { jsonView } from './json-view.js';

export function detailView(row: Row): HTMLElement {
  const failed = failures(row);
  const atomic = Object.entries(row).filter(([key, value]) => value !== null && !key.startsWith('contexts_') && !key.startsWith('unstruct_event_'));
  const entities = shredded(row).filter(([key]) => key !== FAILURE_COLUMN);
  return h('div', { class: 'detail-body' },
    h('h2', {}, failed.length > 0 ? 'Failed event' : 'Valid event', ' ', h('span', { class: 'mono small' }, String(row.event_id ?? ''))),
    failed.length > 0 && h('section', { class: 'errors', 'data-testid': 'event-errors' }, h('h3', {}, 'Validation errors'), ...failed.map(failureView)),
    h('section', {}, h('h3', {}, `Fields (${atomic.length})`),
      h('table', { class: 'fields', 'data-testid': 'event-fields' }, h('tbody', {}, ...atomic.map(([key, value]) => h('tr', {}, h('th', { class: 'mono' }, key), h('td', { class: 'mono' }, typeof value === 'object' ? JSON.stringify(value) : String(value))))))),
    ...entities.map(([key, value]) => h('section', { 'data-testid': 'event-entity', 'data-column': key }, h('h3', { class: 'mono' }, key), jsonView(value))),
  );
}

/** One failure: where (source, schema), each error with its path, and the data with the failing fields marked. */
function failureView(failure: Failure): HTMLElement {
  const paths = new Set(failure.errors.map((error) => error.path).filter((path): path is string => path !== undefined));
  return h('div', { class: 'failure', 'data-testid': 'failure' },
    h('p', {}, h('strong', {}, failure.failureType), ' in ', h('span', { class: 'mono' }, failure.schema ?? 'the tracker payload')),
    h('ul', {}, ...failure.errors.map((error) => h('li', { 'data-testid': 'failure-error' },
      h('span', { class: 'tag' }, error.source), ' ',
      error.path !== undefined && h('code', { 'data-testid': 'failure-path' }, error.path), ' ',
      h('span', { 'data-testid': 'failure-message' }, error.path !== undefined && error.message.startsWith(`${error.path}: `) ? error.message.slice(error.path.length + 2) : error.message),
      error.field !== undefined && h('span', { class: 'small muted' }, ` (payload field ${error.field})`)))),
    failure.data !== null && failure.data !== undefined && jsonView(failure.data, paths),
  );
}
