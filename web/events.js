// The events page of `onair schedule`: the day's events on a timeline and
// as a table (state, times, channel, the pipeline on air, a link to the
// channel's own page), the operator's teardown confirmation and extension,
// and one event's history. Polls the controller's API once a second.
'use strict';

(() => {
  const { $, el, call, clock, say, every } = onair;
  const page = { events: [], selected: null };
  window.onairPage = page;  // for the browser tests

  const time = (text) => (text ? Date.parse(text) : null);
  const endOf = (e) => time(e.effective_end) || time(e.end);

  // The channel page of a deployed event: its origin's "/".
  function channelLink(e) {
    if (!e.deployment || !e.deployment.origin) return e.channel_name || e.channel || '';
    return el('a', { href: `${e.deployment.origin}/`, target: '_blank', rel: 'noopener', text: e.channel_name || e.channel });
  }

  function onAir(e) {
    const status = e.channel_status;
    return status && status.active_pipeline ? status.active_pipeline.toUpperCase() : '';
  }

  async function act(e, what, body) {
    try {
      await call(`/api/v1/events/${encodeURIComponent(e.id)}/${what}`, { method: 'POST', body, guarded: true });
      say(`${e.id}: ${what} accepted`);
      await refresh();
    } catch (error) {
      say(`${e.id}: ${what} refused: ${error.message}`, true);
    }
  }

  function buttons(e) {
    const out = [];
    const running = ['deploying', 'ready', 'live', 'ending'].includes(e.state);
    if (e.state === 'ending' || e.state === 'live')
      out.push(el('button', { type: 'button', class: 'teardown', text: 'Confirm teardown', onclick: () => act(e, 'teardown') }));
    if (running)
      out.push(el('button', {
        type: 'button', class: 'extend', text: '+5 min',
        onclick: () => act(e, 'extend', { end: new Date(endOf(e) + 5 * 60000).toISOString() }),
      }));
    out.push(el('button', { type: 'button', text: 'History', onclick: () => select(e.id) }));
    return out;
  }

  function showTable() {
    $('events').querySelector('tbody').replaceChildren(...page.events.map((e) => el('tr', { 'data-id': e.id },
      el('td', { text: `${e.title} (${e.id})` }),
      el('td', { class: `state state-${e.state}`, text: e.state }),
      el('td', { text: clock(time(e.preroll)) }),
      el('td', { text: clock(time(e.start)) }),
      el('td', { text: clock(endOf(e)) }),
      el('td', {}, channelLink(e)),
      el('td', { text: onAir(e) }),
      el('td', {}, ...buttons(e)))));
  }

  // One lane per event over the span from the earliest preroll to the
  // latest end: the preroll lighter, the event itself coloured by state.
  function showTimeline() {
    const lanes = $('lanes');
    if (!page.events.length) {
      lanes.replaceChildren(el('p', { class: 'muted', text: 'no events' }));
      return;
    }
    const from = Math.min(...page.events.map((e) => time(e.preroll)), Date.now());
    const to = Math.max(...page.events.map(endOf), Date.now()) + 1000;
    const at = (t) => `${(100 * (t - from)) / (to - from)}%`;
    const span = (a, b) => `${(100 * (b - a)) / (to - from)}%`;
    $('range').textContent = `${clock(from)} – ${clock(to)} UTC`;
    const kind = (e) => (e.state === 'live' ? 'live' : ['done', 'failed', 'cancelled'].includes(e.state) ? 'done' : '');
    lanes.replaceChildren(...page.events.map((e) => el('div', { class: 'lane', 'data-id': e.id },
      el('div', { class: 'bar preroll-part', style: `left:${at(time(e.preroll))};width:${span(time(e.preroll), time(e.start))}` }),
      el('div', {
        class: `bar ${kind(e)}`, title: `${e.title}: ${e.state}`,
        style: `left:${at(time(e.start))};width:${span(time(e.start), endOf(e))}`, text: `${e.title} · ${e.state}`,
      }))), el('div', { id: 'now-line', style: `left:${at(Date.now())}` }));
  }

  async function select(id) {
    page.selected = id;
    await showHistory();
  }

  async function showHistory() {
    if (!page.selected) return;
    let e;
    try {
      e = await call(`/api/v1/events/${encodeURIComponent(page.selected)}`);
    } catch (error) {
      say(`history: ${error.message}`, true);
      return;
    }
    $('history-of').textContent = `of ${e.title} (${e.id})`;
    $('history-list').querySelector('tbody').replaceChildren(...e.history.map((h) => el('tr', {},
      el('td', { text: clock(Date.parse(h.time), true) }), el('td', { text: h.from }),
      el('td', { class: `state state-${h.to}`, text: h.to }), el('td', { text: h.reason }))));
  }

  async function refresh() {
    $('clock').textContent = `${clock(Date.now())} UTC`;
    try {
      page.events = (await call('/api/v1/events')).events;
    } catch (error) {
      say(`events: ${error.message}`, true);
      return;
    }
    page.events.sort((a, b) => time(a.start) - time(b.start));
    showTable();
    showTimeline();
    await showHistory();
  }

  every(1000, refresh);
})();
