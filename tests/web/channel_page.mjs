// Drives a channel's control-room page in headless Chromium, as an operator
// would, and checks what the page shows. The C++ test that runs it cuts and
// restores pipeline A's input when this script says so on stdout:
//   "playing"   the program plays: cut A's input now
//   "switched"  the page showed the switch to B: restore A's input now
// Then it tries the switch button without and with the API token, marks in
// and out on the program, cuts a clip, plays it, saves a screenshot, and
// deletes the clip.
// Prints "ok" and a JSON summary, or "FAIL: reason" (exit 1).
//   node tests/web/channel_page.mjs ORIGIN TOKEN SCREENSHOT
import { openSession } from './page_session.mjs';

const [origin, token, screenshot] = process.argv.slice(2);
const session = await openSession({ width: 1400, height: 1100 });
const { page, fail } = session;
// A segment may have no thumbnail (slate, or its thumbnail not made yet under
// load): the page shows a blank tile, and at least one picture is checked below.
session.tolerated.push((r) => r.status() === 404 && new URL(r.url()).pathname.startsWith('/thumbs/'));
try {
  await page.goto(`${origin}/`);
  const status = (sel) => page.locator(sel).textContent();

  // The program plays: currentTime advances by two seconds.
  await page.waitForFunction(() => document.getElementById('player').currentTime > 0, null, { timeout: 60000 })
    .catch(() => fail('the program never started playing'));
  const t0 = await page.evaluate(() => document.getElementById('player').currentTime);
  await page.waitForFunction((t) => document.getElementById('player').currentTime > t + 2, t0, { timeout: 20000 })
    .catch(() => fail('the program does not advance'));
  if (!(await page.locator('#pipeline-a').evaluate((n) => n.classList.contains('on-air'))))
    fail('pipeline A is not shown on air at the start');
  const levels = await page.locator('#rendition option').count();
  if (levels < 2) fail(`the rendition picker lists ${levels - 1} renditions`);
  const latency = await status('#latency');
  console.log('playing');

  // A's input is cut: the panel shows B on air and the switch in the history.
  await page.waitForFunction(() => document.getElementById('pipeline-b').classList.contains('on-air') &&
      document.querySelectorAll('#switches tbody tr').length >= 1, null, { timeout: 45000 })
    .catch(() => fail('the A/B panel never showed the switch to B'));
  const firstSwitch = await page.locator('#switches tbody tr').first().locator('td').allTextContents();
  if (firstSwitch[1] !== 'A' || firstSwitch[2] !== 'B') fail(`switch row ${firstSwitch}`);
  const aInput = await page.locator('#pipeline-a dd').first().textContent();
  console.log('switched');

  // A is back (its input connected again); the channel stays on B (equal mode).
  // A is back: its input connected, real pictures again (no content flag), standing by.
  await page.waitForFunction(() => {
    const card = document.getElementById('pipeline-a');
    return card.querySelector('dd').textContent === 'connected' && card.querySelector('dl').dataset.content === '' &&
      card.querySelector('.served').textContent === 'standby';
  }, null, { timeout: 45000 }).catch(() => fail('pipeline A never showed its input and pictures back'));

  // The switch button: refused with a wrong token (asked for once), then done with the right one.
  session.promptAnswer = 'not-the-token';
  session.expected.push((r) => r.status() === 401 && r.url().endsWith('/switch'));
  await page.locator('#pipeline-a .switch').click();
  await page.waitForFunction(() => /refused/.test(document.getElementById('message').textContent), null,
    { timeout: 10000 }).catch(() => fail('a wrong token was not refused'));
  const refusedMessage = await status('#message');
  if (await page.locator('#pipeline-a').evaluate((n) => n.classList.contains('on-air')))
    fail('switched to A with a wrong token');
  session.promptAnswer = token;
  await page.locator('#pipeline-a .switch').click();
  await page.waitForFunction(() => document.getElementById('pipeline-a').classList.contains('on-air'), null,
    { timeout: 10000 }).catch(() => fail('the switch button did not switch to A'));
  const switchRows = await page.locator('#switches tbody tr').count();
  const storedToken = await page.evaluate(() => sessionStorage.getItem('onair.api-token'));
  if (storedToken !== token) fail('the token is not kept in the session');
  if (page.url().includes(token) || (await page.content()).includes(token)) fail('the token shows in the URL or page');

  // Marks on the program, frame-accurate, and a clip cut from them.
  await page.locator('#mark-in').click();
  const markIn = await status('#in');
  await page.waitForTimeout(3000);
  await page.locator('#mark-out').click();
  const markOut = await status('#out');
  const marks = await page.evaluate(() => window.onairPage.marks);
  // 3 s of wall clock apart; less media time if the player stalled meanwhile.
  if (!(marks.out - marks.in >= 500 && marks.out - marks.in <= 4500)) fail(`marks ${JSON.stringify(marks)}`);
  await page.locator('#accuracy').selectOption('frame');
  await page.locator('#title').fill('Page clip');
  await page.locator('#event').fill('page-test');
  await page.locator('#cut').click();
  await page.waitForFunction(() => [...document.querySelectorAll('#clip-list tbody tr')]
    .some((r) => r.children[1].textContent === 'Page clip' && r.children[4].textContent === 'succeeded'),
  null, { timeout: 90000 }).catch(async () => fail(`the clip never succeeded: ${await status('#job-state')}`));
  const row = page.locator('#clip-list tbody tr', { hasText: 'Page clip' }).first();
  const clipId = await row.getAttribute('data-id');
  const clipSeconds = parseFloat(await row.locator('td').nth(3).textContent());
  if (Math.abs(clipSeconds - (marks.out - marks.in) / 1000) > 0.1)
    fail(`the clip lasts ${clipSeconds} s, the marks ${(marks.out - marks.in) / 1000} s apart`);
  const mp4 = await row.locator('a').getAttribute('href');
  const mp4Status = (await page.request.get(`${origin}${mp4}`)).status();
  if (mp4Status !== 200) fail(`the clip's MP4 answered ${mp4Status}`);
  await row.locator('button', { hasText: 'Play' }).click();
  await page.waitForFunction((id) => document.getElementById('playing-what').textContent === `clip ${id}` &&
      document.getElementById('player').currentTime > 1, clipId, { timeout: 30000 })
    .catch(() => fail('the clip does not play'));

  await page.screenshot({ path: screenshot, fullPage: true });

  // Deleted from the list (the confirmation accepted, the token kept): gone
  // from the page and from the API.
  await row.locator('button', { hasText: 'Delete' }).click();
  await page.waitForFunction((id) => !document.querySelector(`#clip-list tbody tr[data-id="${id}"]`), clipId,
    { timeout: 15000 }).catch(() => fail('the deleted clip is still listed'));
  const deleted = (await page.request.get(`${origin}/api/v1/clips/${clipId}`)).status();
  if (deleted !== 404) fail(`the deleted clip answers ${deleted}`);
  session.checkClean();
  const thumbnails = await page.locator('#timeline img').evaluateAll((images) =>
    images.filter((i) => i.complete && i.naturalWidth > 0).length);
  if (thumbnails < 1) fail('the DVR timeline shows no thumbnail');
  console.log('ok');
  console.log(JSON.stringify({ latency, thumbnails, levels: levels - 1, first_switch: firstSwitch, a_input_when_cut: aInput,
    refused: refusedMessage, switches: switchRows, mark_in: markIn, mark_out: markOut, clip: clipId,
    clip_seconds: clipSeconds, deleted }));
} finally {
  await session.browser.close();
}
