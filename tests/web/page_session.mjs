// What the page tests share: a page in headless Chromium that records every
// console error (failed loads are judged by their responses instead) and
// every 4xx/5xx response but those a test expects, answers the token
// prompt with what the test sets, and accepts confirmations; and fail(),
// which prints the reason and what was recorded and exits 1.
import { launchBrowser } from '../support/browser.mjs';

export async function openSession(viewport) {
  const browser = await launchBrowser();
  const page = await browser.newPage({ viewport });
  const session = {
    browser, page,
    consoleErrors: [],
    badResponses: [],
    expected: [],        // predicates: a response one of them takes once is not bad
    tolerated: [],       // predicates: responses they take are never bad
    promptAnswer: null,  // what the next token prompt gets
    fail(reason) {
      console.log(`FAIL: ${reason}`);
      console.log(JSON.stringify({ console_errors: session.consoleErrors, bad_responses: session.badResponses }));
      process.exit(1);
    },
    // Fails on any console error or unexpected failed request so far.
    checkClean() {
      if (session.consoleErrors.length) session.fail(`console errors: ${session.consoleErrors.join(' | ')}`);
      if (session.badResponses.length) session.fail(`failed requests: ${session.badResponses.join(' | ')}`);
    },
  };
  page.on('console', (m) => {
    if (m.type() === 'error' && !m.text().startsWith('Failed to load resource')) session.consoleErrors.push(m.text());
  });
  page.on('pageerror', (e) => session.consoleErrors.push(`page error: ${e.message}`));
  page.on('response', (r) => {
    if (r.status() < 400) return;
    if (session.tolerated.some((tolerate) => tolerate(r))) return;
    const at = session.expected.findIndex((expect) => expect(r));
    if (at >= 0) session.expected.splice(at, 1);
    else session.badResponses.push(`${r.status()} ${r.url()}`);
  });
  page.on('dialog', async (dialog) => {
    if (dialog.type() === 'prompt') await dialog.accept(session.promptAnswer ?? '');
    else await dialog.accept();
  });
  return session;
}
