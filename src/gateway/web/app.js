// walrus dashboard entry point: loads the regions, opens the live event stream and wires the
// convergence indicator, mirror lag, simulator controls, produce panel and token field.
// API: docs/gateway-api.md. Plain ES modules, no build step, nothing loaded from the network.

import { EventLog } from './events.js';
import { RegionsView } from './regions.js';
import { api, clear, clock, describeError, duration, h, splitArgs, token } from './util.js';

const $ = (id) => document.getElementById(id);

const state = {
  regions: [],
  view: null,
  log: null,
  convergence: null,  // last `convergence` message
  sim: null,          // last `sim` message
  flowsSig: '',       // what the mirror lag table shows
  rateDragging: false,
  rateTouched: false,
};

// ---- token ----

function initToken() {
  const form = $('token-form');
  const input = $('token-input');
  input.value = token.load();
  form.classList.toggle('saved', !!token.value);
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    token.save(input.value);
    form.classList.remove('needed');
    form.classList.toggle('saved', !!token.value);
  });
}

// A 401 on a write: point at the token field.
function checkAuth(r) {
  if (r.status === 401) {
    $('token-form').classList.add('needed');
    $('token-input').focus();
  }
}

// ---- convergence ----

function setConvergence(c) {
  if (!c || typeof c.converged !== 'boolean') return;
  state.convergence = c;
  renderConvergence();
  if (state.view && c.digests) state.view.markDigests(c.digests);
}

function renderConvergence() {
  const c = state.convergence;
  const pill = $('convergence');
  const text = $('convergence-text');
  if (!c) return;
  const since = Number(c.since_ms);
  pill.dataset.state = c.converged ? 'converged' : 'diverged';
  if (c.converged) {
    text.textContent = Number.isFinite(since) && since > 0 ? `converged since ${clock(since)}` : 'converged';
  } else {
    text.textContent = Number.isFinite(since) && since > 0
      ? `diverged for ${duration(Date.now() - since)}` : 'diverged';
  }
  const digests = Object.entries(c.digests || {}).map(([r, d]) => `${r}: ${String(d).slice(0, 12)}`);
  pill.title = `Regions are converged when their dataset digests are equal\n${digests.join('\n')}`;
}

// ---- mirror lag per flow ----

function setFlows(msg) {
  const flows = (msg && Array.isArray(msg.flows)) ? msg.flows : [];
  const root = $('flows');
  if (!flows.length) return;
  const names = state.regions.length ? state.regions
    : [...new Set(flows.flatMap((f) => [f.from, f.to]))];
  const sig = JSON.stringify([names, flows.map((f) => [f.from, f.to, f.lag_records])]);
  if (sig === state.flowsSig) return;  // unchanged: no redraw
  state.flowsSig = sig;
  const lag = new Map(flows.map((f) => [`${f.from}>${f.to}`, f]));
  clear(root);
  root.append(h('table', { 'aria-label': 'Mirror lag in records, from origin (rows) to region (columns)' },
    h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'from \\ to'),
      names.map((n) => h('th', { scope: 'col' }, n)))),
    h('tbody', {}, names.map((from) => h('tr', {}, h('th', { scope: 'row' }, from),
      names.map((to) => {
        if (from === to) return h('td', { class: 'flow self' }, '·');
        const f = lag.get(`${from}>${to}`);
        if (!f) return h('td', { class: 'flow' }, '—');
        const n = Number(f.lag_records);
        return h('td', {
          class: n > 0 ? 'flow lagging' : 'flow',
          dataset: { from, to, lag: String(n) },
          title: `${from}.events → ${to}: ${n} records behind`,
        }, String(n));
    }))))));
}

// ---- simulator ----

const kMaxRate = 5000;
const sliderToRate = (v) => Math.max(1, Math.min(kMaxRate, Math.round(Math.exp((v / 100) * Math.log(kMaxRate)))));
const rateToSlider = (r) => Math.round((Math.log(Math.max(1, r)) / Math.log(kMaxRate)) * 100);

function setSim(s) {
  if (!s || typeof s !== 'object') return;
  state.sim = s;
  const badge = $('sim-state');
  badge.dataset.running = String(!!s.running);
  badge.textContent = s.running ? 'running' : 'stopped';
  $('sim-sent').textContent = Number(s.sent || 0).toLocaleString();
  $('sim-errors').textContent = Number(s.errors || 0).toLocaleString();
  $('sim-start').disabled = !!s.running;
  $('sim-stop').disabled = !s.running;
  // The slider shows the running simulator's rate; while stopped, a rate the user picked for the
  // next start is kept.
  if (Number.isFinite(s.rate) && !state.rateDragging && (s.running || !state.rateTouched)) {
    $('sim-rate').value = String(rateToSlider(s.rate));
    $('sim-rate-value').textContent = String(s.rate);
    $('sim-rate').setAttribute('aria-valuetext', `${s.rate} ops/s`);
  }
}

async function simCall(path, body) {
  const msg = $('sim-message');
  msg.textContent = '';
  const r = await api('POST', path, body);
  if (r.ok) setSim(r.data);
  else {
    msg.textContent = describeError(r);
    checkAuth(r);
  }
  return r;
}

function initSim() {
  const slider = $('sim-rate');
  const out = $('sim-rate-value');
  const rate = () => sliderToRate(Number(slider.value));
  const show = () => {
    out.textContent = String(rate());
    slider.setAttribute('aria-valuetext', `${rate()} ops/s`);
  };
  show();
  slider.addEventListener('input', () => {
    state.rateDragging = true;
    state.rateTouched = true;
    show();
  });
  slider.addEventListener('change', async () => {
    state.rateDragging = false;
    if (state.sim && state.sim.running) await simCall('api/sim/rate', { rate: rate() });
  });
  $('sim-start').addEventListener('click', () => simCall('api/sim/start', { rate: rate() }));
  $('sim-stop').addEventListener('click', () => simCall('api/sim/stop'));
}

// ---- produce panel ----

function initProduce() {
  const form = $('produce-form');
  const result = $('produce-result');
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const op = {
      region: $('produce-region').value,
      cmd: $('produce-cmd').value.trim().toUpperCase(),
      key: $('produce-key').value,
    };
    const args = splitArgs($('produce-args').value);
    if (args.length) op.args = args;
    result.dataset.state = 'pending';
    result.textContent = `sending ${op.cmd} ${op.key} to ${op.region}…`;
    $('produce-submit').disabled = true;
    const r = await api('POST', 'api/produce', op);
    $('produce-submit').disabled = false;
    if (r.ok) {
      const a = r.data;
      result.dataset.state = 'ok';
      result.textContent = `✓ acknowledged: ${a.topic} partition ${a.partition} offset ${a.offset}\n` +
        `origin ${a.origin || op.region} hlc ${a.hlc || '—'}`;
      if (a.hlc) state.log.highlight(a.origin || op.region, a.hlc);
    } else {
      result.dataset.state = 'error';
      result.textContent = `${r.status ? `HTTP ${r.status}` : 'no answer'}\n${JSON.stringify(r.data)}`;
      checkAuth(r);
    }
  });
}

// ---- live events ----

function connectEvents() {
  const conn = $('conn');
  const es = new EventSource('api/events');
  const on = (kind, fn) => es.addEventListener(kind, (m) => {
    let data;
    try {
      data = JSON.parse(m.data);
    } catch (e) {
      return;  // not JSON: ignore rather than break the stream
    }
    fn(data);
  });
  es.onopen = () => {
    conn.dataset.state = 'open';
    conn.textContent = 'live';
  };
  es.onerror = () => {
    conn.dataset.state = 'error';
    conn.textContent = 'reconnecting…';
    if (es.readyState === EventSource.CLOSED) {  // the browser gave up (e.g. an HTTP error)
      setTimeout(connectEvents, 2000);
    }
  };
  on('op', (e) => state.log.push(e));
  on('convergence', setConvergence);
  on('flows', setFlows);
  on('sim', setSim);
  on('reset', () => state.log.reset());
}

// ---- start-up ----

async function loadRegions() {
  const r = await api('GET', 'api/regions');
  const list = r.ok && Array.isArray(r.data.regions) ? r.data.regions : null;
  if (!list) {
    $('regions-empty').textContent = `Cannot load regions (${describeError(r)}); retrying…`;
    setTimeout(loadRegions, 2000);
    return;
  }
  state.regions = list.map((x) => (typeof x === 'string' ? x : x.name)).filter(Boolean);
  state.view = new RegionsView($('regions'), state.regions);
  state.log.setRegions(state.regions);
  const select = $('produce-region');
  clear(select);
  for (const n of state.regions) select.append(h('option', { value: n }, n));
  state.view.start();
  connectEvents();
  // Initial values; the stream keeps them current afterwards.
  api('GET', 'api/convergence').then((x) => x.ok && setConvergence(x.data));
  api('GET', 'api/flows').then((x) => x.ok && setFlows(x.data));
  api('GET', 'api/sim').then((x) => x.ok && setSim(x.data));
}

function main() {
  initToken();
  state.log = new EventLog({
    table: $('events'), head: $('event-head'), body: $('event-log'), empty: $('events-empty'),
    rate: $('event-rate'), pause: $('events-pause'), clearBtn: $('events-clear'),
  });
  initSim();
  initProduce();
  setInterval(renderConvergence, 1000);
  loadRegions();
}

main();
