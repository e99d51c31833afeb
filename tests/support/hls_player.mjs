// One viewer, for bench/latency and the player tests: hls.js (node_modules,
// served by this script) in Debian's headless Chromium, driven by
// playwright-core.
//   node tests/support/hls_player.mjs URL SECONDS MODE [URL...]
// MODE 0 or 1 (live; 1: hls.js's low-latency mode): plays URL for SECONDS
// after playback starts and samples, every second, the wall clock minus the
// PROGRAM-DATE-TIME of the frame shown (hls.playingDate). Prints "playing"
// once playback starts, then one JSON line: samples (ms), median, worst,
// stalls and the longest (ms), hls.js errors, requests/s, media seconds played.
// MODE vod: plays each URL (a VOD playlist) from start to end, one tab after
// the other, SECONDS at most each; prints one JSON line per URL: whether it
// ended, the seconds played and the playlist's duration as the player reads
// them, the PROGRAM-DATE-TIME it gives the start (ms), stalls, errors.
// hls.js may play up to 1.5x to catch up with its target (maxLiveSyncPlaybackRate).
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { launchBrowser } from './browser.mjs';

const [source, secondsText, mode, ...moreSources] = process.argv.slice(2);
const lowLatency = mode === '1' ? '1' : '0';
const seconds = Number(secondsText || 60);
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const hlsScript = fs.readFileSync(path.join(root, 'node_modules/hls.js/dist/hls.min.js'));

const page = `<!doctype html><meta charset="utf-8"><title>latency</title>
<video id="v" muted autoplay playsinline></video>
<script src="/hls.js"></script>
<script>
  performance.setResourceTimingBufferSize(1000000);
  const q = new URLSearchParams(location.search);
  window.stalls = 0;
  window.longestStall = 0;
  window.errors = [];
  window.playing = false;
  window.ended = false;
  window.firstDate = null;
  let stalledAt = null;
  const video = document.getElementById('v');
  video.addEventListener('ended', () => { window.ended = true; });
  // The date hls.js maps to position 0 (where a VOD playlist starts).
  video.addEventListener('timeupdate', () => {
    if (window.firstDate === null && hls.playingDate)
      window.firstDate = hls.playingDate.getTime() - video.currentTime * 1000;
  });
  video.addEventListener('playing', () => {
    window.playing = true;
    if (stalledAt !== null) window.longestStall = Math.max(window.longestStall, performance.now() - stalledAt);
    stalledAt = null;
  });
  video.addEventListener('waiting', () => {
    if (!window.playing || stalledAt !== null) return;
    window.stalls++;
    stalledAt = performance.now();
  });
  // Catching up to the target (up to 1.5x) as players tuned for live do; the
  // target is the playlist's own (PART-HOLD-BACK, or three segments).
  const hls = new Hls({ lowLatencyMode: q.get('ll') === '1', maxLiveSyncPlaybackRate: 1.5 });
  window.hls = hls;
  const started = performance.now();
  hls.on(Hls.Events.ERROR, (event, data) => {
    window.errors.push((data.fatal ? 'fatal ' : '') + data.details);
    const ranges = [];
    for (let i = 0; i < video.buffered.length; i++)
      ranges.push(video.buffered.start(i).toFixed(3) + '-' + video.buffered.end(i).toFixed(3));
    console.error('hls error at ' + ((performance.now() - started) / 1000).toFixed(1) + ' s: ' +
        (data.fatal ? 'fatal ' : '') + data.details + ' (playing ' + video.currentTime.toFixed(3) +
        ', buffered ' + ranges.join(' ') + ', frag ' +
        (data.frag ? data.frag.sn + '/' + (data.part ? data.part.index : '') : '') + ')');
  });
  hls.loadSource(q.get('src'));
  hls.attachMedia(video);
  window.requests = () => performance.getEntriesByType('resource')
      .filter((e) => e.name.startsWith(new URL(q.get('src')).origin)).length;
  window.latency = () => hls.playingDate ? Date.now() - hls.playingDate.getTime() : null;
</script>`;

const server = http.createServer((request, response) => {
  if (request.url === '/hls.js') {
    response.writeHead(200, { 'content-type': 'text/javascript' });
    response.end(hlsScript);
    return;
  }
  response.writeHead(200, { 'content-type': 'text/html' });
  response.end(page);
});
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));

const browser = await launchBrowser();
// A tab playing `src`: page errors and console errors go to stderr.
async function open(src) {
  const tab = await browser.newPage();
  tab.on('pageerror', (error) => console.error('page error:', error.message));
  tab.on('console', (message) => {
    if (message.type() === 'error') console.error('page:', message.text(), new Date().toISOString());
  });
  const url = `http://127.0.0.1:${server.address().port}/?src=${encodeURIComponent(src)}` +
      `&ll=${lowLatency}`;
  await tab.goto(url);
  return tab;
}

async function playLive(tab) {
  await tab.waitForFunction(() => window.playing === true, null, { timeout: 60000 });
  console.log('playing');
  const played0 = await tab.evaluate(() => document.getElementById('v').currentTime);
  const stalls0 = await tab.evaluate(() => window.stalls);
  const requests0 = await tab.evaluate(() => window.requests());
  const samples = [];
  for (let i = 0; i < seconds; i++) {
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const latency = await tab.evaluate(() => window.latency());
    if (latency !== null) samples.push(latency);
  }
  const stalls = (await tab.evaluate(() => window.stalls)) - stalls0;
  const longestStall = await tab.evaluate(() => window.longestStall);
  const errors = await tab.evaluate(() => window.errors);
  const played = (await tab.evaluate(() => document.getElementById('v').currentTime)) - played0;
  const requests = (await tab.evaluate(() => window.requests())) - requests0;
  const sorted = [...samples].sort((a, b) => a - b);
  const median = sorted.length ? sorted[Math.floor(sorted.length / 2)] : null;
  const worst = sorted.length ? sorted[sorted.length - 1] : null;
  console.log(JSON.stringify({ median, worst, stalls, longest_stall_ms: longestStall, errors,
    played, requests_per_second: requests / seconds, count: samples.length, samples }));
}

async function playToEnd(tab, src) {
  const ended = await tab.waitForFunction(() => window.ended || window.errors.some((e) => e.startsWith('fatal')),
    null, { timeout: seconds * 1000 }).then(() => tab.evaluate(() => window.ended), () => false);
  const result = await tab.evaluate(() => {
    const video = document.getElementById('v');
    return { played: video.currentTime, duration: video.duration, first_date_ms: window.firstDate,
      stalls: window.stalls, longest_stall_ms: window.longestStall, errors: window.errors };
  });
  console.log(JSON.stringify({ url: src, ended, ...result }));
  await tab.close();
}

try {
  if (mode === 'vod') {
    for (const src of [source, ...moreSources]) await playToEnd(await open(src), src);
  } else {
    await playLive(await open(source));
  }
} finally {
  await browser.close();
  server.close();
}
