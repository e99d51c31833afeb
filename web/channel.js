// The channel page: the program in hls.js, pipelines A and B (previews,
// inputs, content flags, switches), the DVR timeline with in/out marks and
// the clip cut, the clip list, and charts of the last minutes. Everything
// comes from this origin's own API and playlists, polled once a second.
'use strict';

(() => {
  const { $, el, call, clock, bitrate, say, every } = onair;
  const page = {
    channel: null,
    master: null,       // /live/CHANNEL/master.m3u8
    preview: null,      // the smallest rendition's media playlist
    status: null,       // the newest channel status
    hls: null,
    playing: 'live',
    marks: { in: null, out: null },  // UTC ms
    dvr: { oldest: null, newest: null, segments: [] },
    clipCursors: [null],  // the cursor of each page shown so far
    charts: null,
    job: null,
  };
  window.onairPage = page;  // for the browser tests

  // A channel with signed playback URLs: the page is opened with ?token=
  // (docs/signed-urls.md) and passes it on to what it plays and fetches.
  const playbackToken = new URLSearchParams(location.search).get('token');
  function signed(url) {
    if (!playbackToken) return url;
    return `${url}${url.includes('?') ? '&' : '?'}token=${playbackToken}`;
  }

  // --- the player ----------------------------------------------------------
  function play(url, what) {
    if (page.hls) page.hls.destroy();
    const hls = new Hls({ lowLatencyMode: true, maxLiveSyncPlaybackRate: 1.5 });
    page.hls = hls;
    page.playing = what;
    $('playing-what').textContent = what;
    $('go-live').disabled = what === 'live';
    hls.on(Hls.Events.MANIFEST_PARSED, () => {
      const select = $('rendition');
      select.replaceChildren(el('option', { value: -1, text: 'auto' }));
      hls.levels.forEach((level, i) =>
        select.append(el('option', { value: i, text: `${level.height}p · ${bitrate(level.bitrate)}` })));
    });
    hls.on(Hls.Events.ERROR, (event, data) => {
      if (data.fatal) say(`player: ${data.details}`, true);
    });
    hls.loadSource(signed(url));
    hls.attachMedia($('player'));
  }

  // The date of the frame shown, in UTC ms (PROGRAM-DATE-TIME); null before playback.
  function shownDate() {
    return page.hls && page.hls.playingDate ? page.hls.playingDate.getTime() : null;
  }

  function showLatency() {
    const shown = shownDate();
    $('latency').textContent = shown === null ? '–' : `${((Date.now() - shown) / 1000).toFixed(2)} s`;
  }

  // --- pipelines -----------------------------------------------------------
  const previews = {};
  function startPreview(id) {
    const card = $(`pipeline-${id}`);
    const video = card.querySelector('video');
    const hls = new Hls({ lowLatencyMode: false, maxBufferLength: 6 });
    hls.loadSource(signed(`${page.preview}?pipeline=${id}`));
    hls.attachMedia(video);
    previews[id] = hls;
  }

  function showPipeline(id, status) {
    const card = $(`pipeline-${id}`);
    const input = status.inputs[id];
    const pipeline = status.pipelines[id];
    if (!input || !pipeline) {
      card.hidden = true;
      return;
    }
    card.hidden = false;
    const served = status.active_pipeline === id;
    card.classList.toggle('on-air', served);
    const chip = card.querySelector('.served');
    chip.textContent = served ? 'on air' : pipeline.state;
    const flags = ['slate', 'black', 'frozen', 'silent'].filter((f) => pipeline.health[f] || pipeline.now[f]);
    if (pipeline.now.filling) flags.unshift('filling');
    const rows = [
      ['input', input.state],
      ['bitrate', bitrate(input.bitrate)],
      ['last packet', input.last_packet_age_ms === null ? '–' : `${input.last_packet_age_ms} ms ago`],
      ['continuity errors', input.continuity_errors],
      ['content', flags.length ? flags.join(', ') : 'ok'],
      ['lag', `${pipeline.lag_ms} ms`],
      ['late segments', pipeline.late_segments],
    ];
    card.querySelector('dl').replaceChildren(
      ...rows.flatMap(([name, value]) => [el('dt', { text: name }), el('dd', { text: String(value) })]));
    card.querySelector('dl').dataset.content = flags.join(',');
    card.querySelector('.switch').disabled = served;
  }

  function showSwitches(failover) {
    $('switches').querySelector('tbody').replaceChildren(...failover.history.map((s) =>
      el('tr', {}, el('td', { text: clock(Date.parse(s.time), true) }), el('td', { text: s.from.toUpperCase() }),
        el('td', { text: s.to.toUpperCase() }), el('td', { text: s.reason }))));
  }

  async function switchTo(id) {
    try {
      await call(`/api/v1/channels/${page.channel}/switch`, { method: 'POST', body: { to: id }, guarded: true });
      say(`switched to pipeline ${id.toUpperCase()}`);
      await refresh();
    } catch (error) {
      say(`switch refused: ${error.message}`, true);
    }
  }

  // --- status, once a second -------------------------------------------------
  async function refresh() {
    let status;
    try {
      status = await call(`/api/v1/channels/${page.channel}`);
    } catch (error) {
      $('on-air').textContent = 'unreachable';
      return;
    }
    page.status = status;
    $('on-air').textContent = `on air: ${status.active_pipeline.toUpperCase()}`;
    for (const id of ['a', 'b']) showPipeline(id, status);
    showSwitches(status.failover);
    if (status.dvr) {
      const recorded = (Date.parse(status.dvr.newest) - Date.parse(status.dvr.oldest)) / 1000;
      $('dvr-window').textContent = status.dvr.oldest
        ? `${status.dvr.oldest.slice(11, 19)} – ${status.dvr.newest.slice(11, 19)} UTC (${Math.round(recorded)} s)`
        : 'nothing recorded yet';
    }
    addChartSample(status);
    showLatency();
  }

  // --- charts --------------------------------------------------------------
  const chartSeconds = 300;
  function makeChart(target, label, unit) {
    const width = Math.max(280, ($(target).clientWidth || 320) - 10);
    return new uPlot({
      width, height: 140, title: label,
      scales: { x: { time: true } },
      axes: [{ stroke: '#8b959d' }, { size: 80, stroke: '#8b959d', values: (u, values) => values.map((v) => `${v}${unit}`) }],
      series: [{}, { label, stroke: '#2a7ab0', width: 1.5 }],
    }, [[], []], $(target));
  }
  function addChartSample(status) {
    if (!page.charts) return;
    const t = Date.now() / 1000;
    const input = status.inputs[status.active_pipeline];
    const samples = {
      bitrate: input ? input.bitrate / 1000 : null,
      latency: status.latency ? status.latency.median_ms : null,
      requests: status.origin ? status.origin.requests_per_second : null,
    };
    for (const [name, chart] of Object.entries(page.charts)) {
      const [xs, ys] = chart.data;
      xs.push(t);
      ys.push(samples[name]);
      while (xs.length && xs[0] < t - chartSeconds) { xs.shift(); ys.shift(); }
      chart.setData([xs, ys]);
    }
  }

  // --- the DVR timeline ----------------------------------------------------
  // The recorded window of the smallest rendition, one tile per segment
  // (its PROGRAM-DATE-TIME, its thumbnail where the DVR has one).
  async function refreshTimeline() {
    if (!page.status || !page.status.dvr || !page.status.dvr.oldest) return;
    // A window that has ended (a live one whose start expired meanwhile would
    // be refused): what the DVR holds up to a second ago.
    const start = Date.parse(page.status.dvr.oldest) / 1000;
    const end = Date.now() / 1000 - 1;
    if (end <= start) return;
    const response = await fetch(signed(`${page.preview}?start=${start}&end=${end.toFixed(3)}`), { cache: 'no-store' });
    if (!response.ok) return;
    const segments = [];
    let date = null;
    for (const line of (await response.text()).split('\n')) {
      if (line.startsWith('#EXT-X-PROGRAM-DATE-TIME:')) date = Date.parse(line.slice(25));
      else if (line.startsWith('#EXTINF:')) segments.push({ date, duration: parseFloat(line.slice(8)) });
      else if (line && !line.startsWith('#') && segments.length) segments[segments.length - 1].uri = line;
    }
    page.dvr.segments = segments;
    const timeline = $('timeline');
    const base = page.preview.replace(/index\.m3u8$/, '');
    const tiles = segments.map((s) => {
      const tile = el('button', {
        type: 'button', class: 'tile', title: clock(s.date), 'data-date': s.date,
        onclick: () => playFrom(s.date),
      });
      // A thumbnail is made just after its segment is recorded: asked for
      // once the segment is a few seconds old (the next refresh shows it).
      const sequence = s.uri ? s.uri.split('.')[0] : '';
      const settled = Date.now() - (s.date + s.duration * 1000) > 3000;
      // Some segments have none (slate, restored from before a restart).
      const image = settled
        ? el('img', { alt: clock(s.date), loading: 'lazy', src: `/thumbs/${encodeURIComponent(page.channel)}/${sequence}.jpg` })
        : el('div', { class: 'no-picture' });
      if (settled) image.addEventListener('error', () => image.replaceWith(el('div', { class: 'no-picture' })));
      tile.append(image, el('span', { text: clock(s.date) }));
      return tile;
    });
    const atEnd = timeline.scrollLeft + timeline.clientWidth >= timeline.scrollWidth - 4;
    timeline.replaceChildren(...tiles);
    if (atEnd) timeline.scrollLeft = timeline.scrollWidth;
  }

  function playFrom(dateMs) {
    play(`${page.master}?start=${(dateMs / 1000).toFixed(3)}`, `from ${clock(dateMs)} UTC`);
  }

  // Drag along the timeline: the tile under the pointer when it is let go.
  function enableScrub() {
    const timeline = $('timeline');
    let dragging = false;
    timeline.addEventListener('pointerdown', () => { dragging = true; });
    window.addEventListener('pointerup', (event) => {
      if (!dragging) return;
      dragging = false;
      const tile = document.elementFromPoint(event.clientX, event.clientY);
      const target = tile && tile.closest('.tile');
      if (target) playFrom(Number(target.dataset.date));
    });
  }

  // --- marks and the clip cut ---------------------------------------------
  function mark(which) {
    const shown = shownDate();
    if (shown === null) {
      say('nothing is playing to mark', true);
      return;
    }
    page.marks[which] = shown;
    $(which).textContent = clock(shown, true);
  }

  async function cut() {
    const { in: start, out: end } = page.marks;
    if (start === null || end === null || end <= start) {
      say('mark in, then a later out', true);
      return;
    }
    const body = {
      start: new Date(start).toISOString(), end: new Date(end).toISOString(),
      title: $('title').value || `clip ${clock(start)}`, accuracy: $('accuracy').value,
    };
    if ($('event').value) body.event = $('event').value;
    try {
      const job = await call(`/api/v1/channels/${page.channel}/clips`, { method: 'POST', body, guarded: true });
      page.job = job.id;
      say(`cutting ${job.id}`);
      watchJob(job.id);
    } catch (error) {
      say(`clip refused: ${error.message}`, true);
    }
  }

  async function watchJob(id) {
    const progress = $('job');
    progress.hidden = false;
    progress.removeAttribute('value');  // indeterminate while it runs
    for (;;) {
      let job;
      try {
        job = await call(`/api/v1/clips/${encodeURIComponent(id)}`);
      } catch (error) {
        $('job-state').textContent = error.message;
        return;
      }
      $('job-state').textContent = `${job.id}: ${job.status}${job.message ? ` (${job.message})` : ''}`;
      if (job.status !== 'in_progress' && job.status !== 'queued') {
        progress.value = 100;
        page.clipCursors = [null];
        await refreshClips();
        return;
      }
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
  }

  // --- the clip list -------------------------------------------------------
  async function refreshClips() {
    const cursor = page.clipCursors[page.clipCursors.length - 1];
    const query = new URLSearchParams({ limit: 10 });
    if ($('clip-event').value) query.set('event', $('clip-event').value);
    if (cursor) query.set('cursor', cursor);
    let list;
    try {
      list = await call(`/api/v1/channels/${page.channel}/clips?${query}`);
    } catch (error) {
      say(`clips: ${error.message}`, true);
      return;
    }
    page.nextCursor = list.next_cursor;
    $('clips-older').disabled = !list.next_cursor;
    $('clip-list').querySelector('tbody').replaceChildren(...list.clips.map((clip) => el('tr', { 'data-id': clip.id },
      el('td', { text: clip.created.slice(0, 19).replace('T', ' ') }),
      el('td', { text: clip.title }),
      el('td', { text: clip.event || '' }),
      el('td', { text: clip.duration === null ? '' : `${clip.duration.toFixed(2)} s` }),
      el('td', { text: clip.status }),
      el('td', {},
        clip.master ? el('button', { type: 'button', text: 'Play', onclick: () => play(clip.master, `clip ${clip.id}`) }) : null,
        clip.mp4 ? el('a', { href: signed(clip.mp4), download: `${clip.id}.mp4`, text: 'MP4' }) : null,
        el('button', { type: 'button', text: 'Delete', onclick: () => removeClip(clip.id) })))));
  }

  async function removeClip(id) {
    if (!window.confirm(`Delete clip ${id}?`)) return;
    try {
      await call(`/api/v1/clips/${encodeURIComponent(id)}`, { method: 'DELETE', guarded: true });
      say(`deleted ${id}`);
      await refreshClips();
    } catch (error) {
      say(`delete refused: ${error.message}`, true);
    }
  }

  // --- start -----------------------------------------------------------------
  async function start() {
    const health = await call('/healthz');
    page.channel = health.channel;
    $('channel').textContent = page.channel;
    document.title = `onair · ${page.channel}`;
    page.master = `/live/${encodeURIComponent(page.channel)}/master.m3u8`;
    // The master lists the renditions; the smallest feeds the previews and the timeline.
    let text = null;
    while (text === null) {
      const response = await fetch(signed(page.master), { cache: 'no-store' });
      if (response.ok) text = await response.text();
      else await new Promise((resolve) => setTimeout(resolve, 1000));
    }
    let smallest = null;
    const lines = text.split('\n');
    lines.forEach((line, i) => {
      const match = /^#EXT-X-STREAM-INF:.*?BANDWIDTH=(\d+)/.exec(line);
      if (match && (!smallest || Number(match[1]) < smallest.bandwidth))
        smallest = { bandwidth: Number(match[1]), uri: lines[i + 1].trim() };
    });
    page.preview = new URL(smallest.uri, new URL(page.master, location.href)).pathname;

    play(page.master, 'live');
    $('rendition').addEventListener('change', (event) => { page.hls.currentLevel = Number(event.target.value); });
    $('go-live').addEventListener('click', () => play(page.master, 'live'));
    for (const id of ['a', 'b'])
      $(`pipeline-${id}`).querySelector('.switch').addEventListener('click', () => switchTo(id));
    $('mark-in').addEventListener('click', () => mark('in'));
    $('mark-out').addEventListener('click', () => mark('out'));
    $('cut').addEventListener('click', cut);
    $('clip-event').addEventListener('change', () => { page.clipCursors = [null]; refreshClips(); });
    $('clips-newer').addEventListener('click', () => { page.clipCursors = [null]; refreshClips(); });
    $('clips-older').addEventListener('click', () => {
      if (page.nextCursor) { page.clipCursors.push(page.nextCursor); refreshClips(); }
    });
    page.charts = {
      bitrate: makeChart('chart-bitrate', 'input bitrate', ' kb/s'),
      latency: makeChart('chart-latency', 'segment latency', ' ms'),
      requests: makeChart('chart-requests', 'origin requests', '/s'),
    };
    enableScrub();
    await refresh();
    for (const id of ['a', 'b']) if (page.status && page.status.pipelines[id]) startPreview(id);
    every(1000, refresh);
    every(10000, refreshTimeline);
    refreshClips();
    setInterval(showLatency, 250);
  }

  start().catch((error) => say(`cannot start: ${error.message}`, true));
})();
