// What both control-room pages share: JSON calls to onair's API, the API
// token (asked once, kept in this tab's sessionStorage, sent only as an
// Authorization header), and small helpers to build the page.
'use strict';

const onair = (() => {
  const tokenKey = 'onair.api-token';

  // The element with this id.
  const $ = (id) => document.getElementById(id);

  // An element: el('td', {class: 'x', text: 'y'}, child, ...).
  function el(tag, attributes = {}, ...children) {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(attributes)) {
      if (name === 'text') node.textContent = value;
      else if (name.startsWith('on')) node.addEventListener(name.slice(2), value);
      else if (value !== undefined && value !== null && value !== false) node.setAttribute(name, value);
    }
    for (const child of children) if (child !== null && child !== undefined) node.append(child);
    return node;
  }

  function token() {
    let value = sessionStorage.getItem(tokenKey);
    if (!value) {
      value = window.prompt('onair API token (kept for this tab only)');
      if (value) sessionStorage.setItem(tokenKey, value.trim());
    }
    return value ? value.trim() : null;
  }

  class ApiError extends Error {
    constructor(status, reason) {
      super(reason);
      this.status = status;
    }
  }

  // GET (or another method) of an API path; the parsed JSON, or an ApiError
  // carrying onair's JSON reason. `guarded`: the call needs the token (a
  // 401 forgets it, so the next call asks again).
  async function call(path, { method = 'GET', body, guarded = false } = {}) {
    const headers = {};
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    if (guarded) {
      const value = token();
      if (!value) throw new ApiError(401, 'no API token given');
      headers.Authorization = `Bearer ${value}`;
    }
    // A call that hangs must not hold a poll forever.
    const response = await fetch(path, {
      method, headers, body: body === undefined ? undefined : JSON.stringify(body), cache: 'no-store',
      signal: AbortSignal.timeout(8000),
    });
    const text = await response.text();
    let json = null;
    try { json = text ? JSON.parse(text) : null; } catch { json = null; }
    if (!response.ok) {
      if (response.status === 401) sessionStorage.removeItem(tokenKey);
      throw new ApiError(response.status, (json && (json.reason || json.error)) || response.statusText);
    }
    return json;
  }

  // "14:03:07" in UTC, and "14:03:07.240" with milliseconds.
  const clock = (ms, withMs = false) =>
    new Date(ms).toISOString().slice(11, withMs ? 23 : 19);
  const bitrate = (bps) => (bps >= 1e6 ? `${(bps / 1e6).toFixed(2)} Mb/s` : `${Math.round(bps / 1e3)} kb/s`);

  // Runs `task` now and again `ms` after each run has ended (never two at
  // once, however slow the origin); a failed run is said, and the next one
  // comes all the same.
  function every(ms, task) {
    const run = async () => {
      try {
        await task();
      } catch (error) {
        say(`${task.name || 'refresh'}: ${error.message}`, true);
      }
      setTimeout(run, ms);
    };
    run();
  }

  // A one-line message in the page's status bar.
  function say(text, isError = false) {
    const bar = $('message');
    if (!bar) return;
    bar.textContent = text;
    bar.className = isError ? 'error' : '';
  }

  return { $, el, call, token, clock, bitrate, say, every, ApiError };
})();
