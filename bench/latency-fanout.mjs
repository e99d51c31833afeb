// Fan-out for bench/latency: CLIENTS requests blocked on the next part of one
// rendition (LL-HLS blocking reload), ROUNDS times. Each round's answers are
// timed against the first of them (the part's publication, as near as a
// client can see it). Prints one JSON line: answer spread p50/p99/max (ms),
// errors, rounds.
//   node bench/latency-fanout.mjs PLAYLIST_URL CLIENTS ROUNDS
import http from 'node:http';

const [playlistUrl, clientsText, roundsText] = process.argv.slice(2);
const clients = Number(clientsText || 1000);
const rounds = Number(roundsText || 5);
const agent = new http.Agent({ keepAlive: false, maxSockets: Infinity });

function get(url) {
  return new Promise((resolve) => {
    const request = http.get(url, { agent, timeout: 15000 }, (response) => {
      let body = '';
      response.setEncoding('utf8');
      response.on('data', (chunk) => { body += chunk; });
      response.on('end', () => resolve({ status: response.statusCode, body, at: performance.now() }));
    });
    request.on('timeout', () => request.destroy(new Error('timeout')));
    request.on('error', (error) => resolve({ status: 0, body: String(error), at: performance.now() }));
  });
}

// The next part's MSN and number, from the playlist's hint.
function nextPart(text) {
  const sequence = Number(/#EXT-X-MEDIA-SEQUENCE:(\d+)/.exec(text)[1]);
  const complete = (text.match(/^#EXTINF:/gm) || []).length;
  const uris = text.split('\n').filter((l) => /^\d+\.m4s$/.test(l));
  const last = Number(uris[uris.length - 1].split('.')[0]);
  const hint = /#EXT-X-PRELOAD-HINT:TYPE=PART,URI="(\d+)\.(\d+)\.m4s"/.exec(text);
  const openMsn = sequence + complete;
  return { msn: openMsn + (Number(hint[1]) - (last + 1)), part: Number(hint[2]) };
}

const spreads = [];
let errors = 0;
for (let round = 0; round < rounds; round++) {
  const playlist = await get(playlistUrl);
  if (playlist.status !== 200) throw new Error(`playlist: ${playlist.status}`);
  const { msn, part } = nextPart(playlist.body);
  const target = `${playlistUrl}?_HLS_msn=${msn}&_HLS_part=${part}`;
  const answers = await Promise.all(Array.from({ length: clients }, () => get(target)));
  const good = answers.filter((a) => a.status === 200 && a.body.includes(`.${part}.m4s"`));
  errors += answers.length - good.length;
  const first = Math.min(...good.map((a) => a.at));
  for (const a of good) spreads.push(a.at - first);
}
spreads.sort((a, b) => a - b);
const at = (q) => spreads[Math.min(spreads.length - 1, Math.floor(q * spreads.length))];
console.log(JSON.stringify({ clients, rounds, errors, p50: at(0.5), p99: at(0.99),
  max: spreads[spreads.length - 1] }));
