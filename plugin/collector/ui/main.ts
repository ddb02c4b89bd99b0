/** The collector's web UI: counts, an events tab and a sessions tab, refreshed while events arrive. */
import { api } from './api.js';
import { fill, h } from './dom.js';
import { eventsView } from './events-view.js';
import { sessionsView } from './sessions-view.js';
import './app.css';

/** How often the UI checks for new events (ms); only a change in the counts reloads the open tab. */
const POLL_MS = 2000;

function start(): void {
  const events = eventsView();
  const sessions = sessionsView();
  const tabs = { events, sessions };
  let active: keyof typeof tabs = location.hash === '#sessions' ? 'sessions' : 'events';
  let seen = '';
  const counts = h('span', { class: 'counts', 'data-testid': 'counts' });
  const main = h('main', {});
  const live = h('input', { type: 'checkbox', checked: true, 'data-testid': 'live' });
  const buttons = (Object.keys(tabs) as Array<keyof typeof tabs>).map((name) =>
    h('button', { type: 'button', role: 'tab', 'data-testid': `tab-${name}`, 'aria-selected': String(name === active), onclick: () => show(name) }, name === 'events' ? 'Events' : 'Sessions'));
  const show = (name: keyof typeof tabs) => {
    active = name;
    history.replaceState(null, '', `#${name}`);
    buttons.forEach((button) => button.setAttribute('aria-selected', String(button.dataset.testid === `tab-${name}`)));
    fill(main, tabs[name].element);
    void tabs[name].refresh();
  };
  const poll = async () => {
    try {
      const now = await api.counts();
      fill(counts, h('span', { class: 'count-good' }, `${now.good} valid`), ' · ', h('span', { class: 'count-bad' }, `${now.bad} failed`));
      const key = JSON.stringify(now);
      if (key !== seen && live.checked) {
        seen = key;
        await tabs[active].refresh();
      }
    } catch {
      fill(counts, 'collector unreachable');
    }
  };
  document.body.append(
    h('header', {},
      h('h1', {}, 'Collector'),
      h('nav', { role: 'tablist' }, ...buttons),
      counts,
      h('label', { class: 'live' }, live, ' Live')),
    main);
  show(active);
  void poll();
  setInterval(() => void poll(), POLL_MS);
}

start();
