// Drives the events page of `onair schedule` in headless Chromium through
// one time-compressed event with `teardown: confirm`: the states the page
// shows for it, in order, its link to the channel page and the pipeline on
// air while it is live; then the operator's teardown button, refused
// without the token and taken with it, and the event's history.
// Prints "ok" and a JSON summary, or "FAIL: reason" (exit 1).
//   node tests/web/events_page.mjs ORIGIN TOKEN SCREENSHOT EVENT_ID
import { openSession } from './page_session.mjs';

const [origin, token, screenshot, eventId] = process.argv.slice(2);
const session = await openSession({ width: 1400, height: 800 });
const { page, fail } = session;
try {
  await page.goto(`${origin}/`);
  const row = page.locator(`#events tbody tr[data-id="${eventId}"]`);
  await row.waitFor({ timeout: 15000 }).catch(() => fail('the event is not in the table'));

  // The states the page shows, sampled as an operator would see them.
  const seen = [];
  let onAir = '';
  let channelHref = null;
  const deadline = Date.now() + 90000;
  while (Date.now() < deadline) {
    const state = await row.locator('td.state').textContent();
    if (seen[seen.length - 1] !== state) seen.push(state);
    if (state === 'live') {
      onAir = (await row.locator('td').nth(6).textContent()) || onAir;
      channelHref = (await row.locator('td').nth(5).locator('a').getAttribute('href').catch(() => null)) || channelHref;
    }
    if (state === 'ending') break;
    await page.waitForTimeout(200);
  }
  const order = ['scheduled', 'deploying', 'ready', 'live', 'ending'];
  const positions = seen.map((s) => order.indexOf(s));
  if (positions.some((p) => p < 0) || positions.some((p, i) => i > 0 && p <= positions[i - 1]))
    fail(`states out of order: ${seen.join(' → ')}`);
  for (const needed of ['live', 'ending'])
    if (!seen.includes(needed)) fail(`never showed ${needed}: ${seen.join(' → ')}`);
  if (onAir !== 'A') fail(`the pipeline on air while live showed as '${onAir}'`);
  if (!channelHref) fail('no link to the channel page while live');
  const channelPage = await page.request.get(channelHref);
  if (channelPage.status() !== 200 || !(await channelPage.text()).includes('id="player"'))
    fail(`the channel link ${channelHref} is not the channel page`);
  // The timeline has the event's lane.
  if ((await page.locator(`#lanes .lane[data-id="${eventId}"]`).count()) !== 1) fail('no timeline lane for the event');

  // The teardown: refused with a wrong token, then the event ends.
  session.promptAnswer = 'wrong-token';
  session.expected.push((r) => r.status() === 401 && r.url().endsWith('/teardown'));
  await row.locator('button.teardown').click();
  await page.waitForFunction(() => /refused/.test(document.getElementById('message').textContent), null,
    { timeout: 10000 }).catch(() => fail('a wrong token was not refused'));
  if ((await row.locator('td.state').textContent()) !== 'ending') fail('the wrong token changed the event');
  session.promptAnswer = token;
  await row.locator('button.teardown').click();
  await page.waitForFunction((id) => {
    const cell = document.querySelector(`#events tbody tr[data-id="${id}"] td.state`);
    return cell && cell.textContent === 'done';
  }, eventId, { timeout: 30000 }).catch(() => fail('the teardown button did not end the event'));

  await row.locator('button', { hasText: 'History' }).click();
  await page.waitForFunction(() => document.querySelectorAll('#history-list tbody tr').length >= 4, null,
    { timeout: 10000 }).catch(() => fail('no history shown'));
  const history = await page.locator('#history-list tbody tr td:nth-child(3)').allTextContents();
  if (history[history.length - 1] !== 'done' || !history.includes('live')) fail(`history ${history.join(', ')}`);

  await page.screenshot({ path: screenshot, fullPage: true });
  session.checkClean();
  console.log('ok');
  console.log(JSON.stringify({ states: seen, on_air: onAir, channel: channelHref, history }));
} finally {
  await session.browser.close();
}
