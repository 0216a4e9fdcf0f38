// Small helpers shared by the dashboard's modules: DOM building, formatting, the token and the
// JSON API client. No dependencies; every string from the server goes through textContent.

// h('div', {class: 'x', dataset: {key: 'k'}}, child, 'text', ...) -> HTMLElement.
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (name === 'class') el.className = value;
    else if (name === 'dataset') Object.assign(el.dataset, value);
    else if (name === 'style') el.style.cssText = value;
    else el.setAttribute(name, value === true ? '' : String(value));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children) {
    if (c === undefined || c === null || c === false) continue;
    if (Array.isArray(c)) append(el, c);
    else el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

export function clear(el) {
  while (el.firstChild) el.removeChild(el.firstChild);
}

const pad = (n, w = 2) => String(n).padStart(w, '0');

// Local wall-clock time of a unix-ms timestamp: "14:03:07", or "14:03:07.123" with ms.
export function clock(ms, withMs = false) {
  if (!Number.isFinite(ms)) return '—';
  const d = new Date(ms);
  const s = `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
  return withMs ? `${s}.${pad(d.getMilliseconds(), 3)}` : s;
}

// "42 s", "3 min 5 s", "2 h 10 min".
export function duration(ms) {
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${s % 60} s`;
  return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
}

export function shorten(text, max) {
  const s = String(text);
  return s.length > max ? `${s.slice(0, max - 1)}…` : s;
}

// Splits "a b 'c d' \"e f\"" into ["a", "b", "c d", "e f"]; quotes keep spaces.
export function splitArgs(text) {
  const out = [];
  const re = /"((?:[^"\\]|\\.)*)"|'([^']*)'|(\S+)/g;
  let m;
  while ((m = re.exec(text)) !== null) {
    if (m[1] !== undefined) out.push(m[1].replace(/\\(.)/g, '$1'));
    else if (m[2] !== undefined) out.push(m[2]);
    else out.push(m[3]);
  }
  return out;
}

// Colour class of a region (rc0..rc5 set --region-color), by its position in /api/regions.
// Classes, not inline styles, so the browser shares one computed style among many elements.
export function regionClass(index) {
  return index >= 0 ? `rc${index % 6}` : 'rc5';
}

// ---- token: URL fragment #token=..., else localStorage; sent as Authorization: Bearer ----

const kTokenKey = 'walrus.gateway.token';

function storage() {
  try {
    return window.localStorage;
  } catch (e) {
    return null;  // storage disabled (privacy mode, file://): the token lives for this page only
  }
}

export const token = {
  value: '',
  // Reads #token=... (and removes it from the address bar so it does not end up in bookmarks or
  // screenshots), else the stored one.
  load() {
    const m = /(?:^#|&)token=([^&]*)/.exec(window.location.hash);
    if (m) {
      this.save(decodeURIComponent(m[1]));
      const rest = window.location.hash.replace(/(^#|&)token=[^&]*/, '$1').replace(/^#&?$/, '');
      history.replaceState(null, '', window.location.pathname + window.location.search + rest);
    } else {
      this.value = (storage() && storage().getItem(kTokenKey)) || '';
    }
    return this.value;
  },
  save(v) {
    this.value = v.trim();
    const s = storage();
    if (s) {
      if (this.value) s.setItem(kTokenKey, this.value);
      else s.removeItem(kTokenKey);
    }
  },
};

// ---- JSON API ----

const kApiTimeoutMs = 15000;  // a hung request must not stall a poll loop forever

// api('GET', 'api/regions') -> {ok, status, data}. Never throws: a network failure is status 0
// with data.error. Paths are relative so the page also works behind a path prefix.
export async function api(method, path, body, timeoutMs = kApiTimeoutMs) {
  const headers = { Accept: 'application/json' };
  if (token.value) headers.Authorization = `Bearer ${token.value}`;
  const init = { method, headers, cache: 'no-store', signal: AbortSignal.timeout(timeoutMs) };
  if (body !== undefined) {
    headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  let res;
  try {
    res = await fetch(path, init);
  } catch (e) {
    const why = e.name === 'TimeoutError' ? `no answer in ${timeoutMs / 1000} s` : (e.message || e);
    return { ok: false, status: 0, data: { error: `gateway unreachable (${why})` } };
  }
  const text = await res.text().catch(() => '');
  let data;
  try {
    data = text ? JSON.parse(text) : {};
  } catch (e) {
    data = { error: text.slice(0, 300) || res.statusText };
  }
  if (data === null || typeof data !== 'object') data = { value: data };
  return { ok: res.ok, status: res.status, data };
}

// "HTTP 401: missing token" for a failed api() result.
export function describeError(r) {
  const what = (r.data && (r.data.error || r.data.message)) || 'request failed';
  return r.status ? `HTTP ${r.status}: ${what}` : what;
}
