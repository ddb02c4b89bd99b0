/** The events tab: filters, a server-paged table (`POST /micro/events`) and the selected event's detail. */
import { api, type EventsRequest, type Row } from './api.js';
import { eventLabel, isValid, schemaOf, SESSION_COLUMN, sessionOf, userOf } from './columns.js';
import { detailView } from './detail-view.js';
import { fill, formatTime, h } from './dom.js';

const PAGE_SIZE = 50;
/** The quick filters: a label and the columns each one searches (any may match), as the table shows them. */
const QUICK_FILTERS: Array<[string, string[]]> = [
  ['App', ['app_id']],
  ['Event', ['event_name', 'se_action']],
  ['User', ['user_id', SESSION_COLUMN, 'domain_userid']],
  ['Session', [SESSION_COLUMN, 'domain_sessionid']],
];

export interface EventsView {
  element: HTMLElement;
  refresh(): Promise<void>;
}

interface FilterState {
  page: number;
  validEvents: boolean | null;
  /** Quick filter values by label. */
  quick: Map<string, string>;
  column: string;
  value: string;
  selected: string | null;
}

export function eventsView(): EventsView {
  const state: FilterState = { page: 1, validEvents: null, quick: new Map(), column: '', value: '', selected: null };
  let rows: Row[] = [];
  const table = h('tbody', { 'data-testid': 'events-body' });
  const pager = h('div', { class: 'pager' });
  const detail = h('aside', { class: 'detail', 'data-testid': 'event-detail' }, h('p', { class: 'hint' }, 'Select an event to see its fields, entities and errors.'));
  const columns = h('datalist', { id: 'column-names' });
  const status = h('p', { class: 'status', 'data-testid': 'events-status' });

  const refresh = async () => {
    try {
      const page = await api.events(request());
      rows = page.events;
      state.page = Math.min(state.page, Math.max(1, page.totalPages));
      renderRows();
      renderPager(page.totalItems, page.totalPages);
      fill(status);
    } catch (error) {
      fill(status, `Could not load events: ${(error as Error).message}`);
    }
  };
  const request = (): EventsRequest => {
    const filters = QUICK_FILTERS.filter(([label]) => (state.quick.get(label) ?? '') !== '').map(([label, columns]) => ({ columns, values: [state.quick.get(label)!], match: 'contains' as const }));
    if (state.column !== '' && state.value !== '') filters.push({ columns: [state.column], values: [state.value], match: 'contains' });
    return { page: state.page, pageSize: PAGE_SIZE, filters, validEvents: state.validEvents, sorting: { column: 'collector_tstamp', desc: true } };
  };
  const renderRows = () => {
    fill(table, ...(rows.length === 0 ? [h('tr', {}, h('td', { colspan: 7, class: 'empty' }, 'No events match.'))] : rows.map(rowElement)));
    const shown = rows.find((row) => row.event_id === state.selected);
    if (shown !== undefined) fill(detail, detailView(shown));
  };
  const rowElement = (row: Row) => {
    const valid = isValid(row);
    const select = () => {
      state.selected = typeof row.event_id === 'string' ? row.event_id : null;
      for (const other of table.querySelectorAll('tr.selected')) other.classList.remove('selected');
      tr.classList.add('selected');
      fill(detail, detailView(row));
    };
    const tr = h('tr', { class: `${valid ? 'valid' : 'failed'}${row.event_id === state.selected ? ' selected' : ''}`, 'data-testid': 'event-row', 'data-event-id': String(row.event_id ?? ''), tabindex: 0, onclick: select, onkeydown: (e) => (e as KeyboardEvent).key === 'Enter' && select() },
      h('td', {}, formatTime(row.collector_tstamp as string)),
      h('td', {}, String(row.app_id ?? '–')),
      h('td', { 'data-testid': 'event-name' }, eventLabel(row)),
      h('td', { class: 'mono' }, schemaOf(row)),
      h('td', { class: 'mono' }, userOf(row)),
      h('td', { class: 'mono' }, sessionOf(row)),
      h('td', {}, h('span', { class: `badge ${valid ? 'badge-valid' : 'badge-failed'}`, 'data-testid': 'event-status' }, valid ? 'Valid' : 'Failed')),
    );
    return tr;
  };
  const renderPager = (total: number, pages: number) => {
    const go = (page: number) => () => { state.page = page; void refresh(); };
    fill(pager,
      h('button', { type: 'button', disabled: state.page <= 1, onclick: go(state.page - 1), 'data-testid': 'page-prev' }, '‹ Newer'),
      h('span', { 'data-testid': 'page-info' }, `Page ${state.page} of ${Math.max(1, pages)} · ${total} events`),
      h('button', { type: 'button', disabled: state.page >= pages, onclick: go(state.page + 1), 'data-testid': 'page-next' }, 'Older ›'),
    );
  };
  const filterChanged = () => { state.page = 1; void refresh(); };
  void api.columns().then((names) => fill(columns, ...names.map((name) => h('option', { value: name }))), () => undefined);
  const element = h('section', { class: 'events-view', 'data-testid': 'events-view' },
    filterForm(state, filterChanged, columns), status,
    h('div', { class: 'split' },
      h('div', { class: 'table-wrap' },
        h('table', { class: 'events' }, h('thead', {}, h('tr', {}, ...['Time (collector)', 'App', 'Event', 'Schema', 'User', 'Session', 'Status'].map((c) => h('th', {}, c)))), table),
        pager),
      detail));
  return { element, refresh };
}

function filterForm(state: FilterState, changed: () => void, columns: HTMLElement): HTMLElement {
  const input = (testid: string, set: (value: string) => void, attributes: Record<string, string> = {}) =>
    h('input', { type: 'search', 'data-testid': testid, placeholder: 'contains…', ...attributes, oninput: (e) => { set((e.target as HTMLInputElement).value); changed(); } });
  const status = h('select', { 'data-testid': 'filter-status', onchange: (e) => {
    const value = (e.target as HTMLSelectElement).value;
    state.validEvents = value === 'all' ? null : value === 'valid';
    changed();
  } }, h('option', { value: 'all' }, 'All'), h('option', { value: 'valid' }, 'Valid'), h('option', { value: 'failed' }, 'Failed'));
  return h('form', { class: 'filters', onsubmit: (e) => e.preventDefault() },
    h('label', {}, 'Status ', status),
    ...QUICK_FILTERS.map(([label]) => h('label', {}, `${label} `, input(`filter-${label.toLowerCase()}`, (v) => state.quick.set(label, v)))),
    h('label', {}, 'Column ', input('filter-column', (v) => (state.column = v), { list: 'column-names', placeholder: 'any column', type: 'text' })),
    h('label', {}, '= ', input('filter-value', (v) => (state.value = v))),
    columns,
  );
}
