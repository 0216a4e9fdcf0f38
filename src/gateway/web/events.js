// The live event log: one row per op (keyed by origin + hlc) with an arrival mark per region that
// lights up when the op is seen in that region's Kafka, showing the ms since it was written.
// Events are queued and drawn in batches (a redraw per event, or even per frame, costs more than
// the simulator's top rates leave): every kFlushMs, stretched up to kMaxFlushMs while the page
// falls behind (a starved CPU), at most kMaxNewRows new rows per batch (the newest; the others
// are counted, not drawn). The log keeps the last kMaxRows rows.

import { clear, clock, h, regionClass, shorten } from './util.js';

const kMaxRows = 200;
const kMaxNewRows = 40;
const kFlushMs = 400;
const kMaxFlushMs = 3000;
const kRateWindow = 3;  // seconds averaged by the ops/s figure
const kMaxEvicted = 5000;  // keys of dropped rows remembered so late arrivals do not re-add them

function opKey(e) {
  return e.hlc ? `${e.origin}/${e.hlc}` : `${e.origin || e.topic}/${e.partition}/${e.offset}`;
}

function describeOp(e) {
  const one = (op) => [
    h('span', { class: 'op-cmd' }, op.cmd || '?'), ' ', op.key || '', ' ',
    h('span', { class: 'op-args' }, shorten((op.args || []).join(' '), 60)),
  ];
  if (Array.isArray(e.ops) && e.ops.length) {
    const parts = [h('span', { class: 'op-cmd' }, 'MULTI'), ' '];
    e.ops.forEach((op, i) => parts.push(i ? ' ; ' : '', one(op)));
    return parts;
  }
  return one(e);
}

function opTitle(e) {
  if (Array.isArray(e.ops) && e.ops.length) {
    return e.ops.map((op) => `${op.cmd} ${op.key} ${(op.args || []).join(' ')}`).join('\n');
  }
  return `${e.cmd} ${e.key} ${(e.args || []).join(' ')}`;
}

// Owns the <tbody> of the log; all methods run on the page's main thread.
export class EventLog {
  constructor({ table, head, body, empty, rate, pause, clearBtn }) {
    this.table = table;
    this.head = head;
    this.body = body;
    this.empty = empty;
    this.rateEl = rate;
    this.regions = [];
    this.colors = new Map();  // region -> colour class
    this.rows = new Map();  // key -> {tr, marks: Map(region -> span)}
    this.evicted = new Set();
    this.queue = [];
    this.scheduled = false;
    this.paused = false;
    this.mine = new Set();
    this.originCount = 0;
    this.interval = kFlushMs;  // adapted in flush()
    this.due = 0;
    pause.addEventListener('click', () => {
      this.paused = !this.paused;
      pause.setAttribute('aria-pressed', String(this.paused));
      pause.textContent = this.paused ? 'Resume' : 'Pause';
    });
    clearBtn.addEventListener('click', () => this.reset());
    this.perSecond = [];  // ops written per second, the last kRateWindow seconds
    setInterval(() => {
      this.perSecond.push(this.originCount);
      this.originCount = 0;
      if (this.perSecond.length > kRateWindow) this.perSecond.shift();
      const avg = this.perSecond.reduce((a, b) => a + b, 0) / this.perSecond.length;
      this.rateEl.textContent = `${Math.round(avg)} ops/s`;
    }, 1000);
  }

  setRegions(names) {
    this.regions = names;
    names.forEach((n, i) => this.colors.set(n, regionClass(i)));
    this.table.style.setProperty('--arrivals', String(names.length));
    for (const th of this.head.querySelectorAll('.c-arrival')) th.remove();
    for (const n of names) {
      this.head.append(h('span', { role: 'columnheader', class: `c-arrival ${this.colors.get(n)}` },
        `in ${n}`));
    }
  }

  reset() {
    clear(this.body);
    this.rows.clear();
    this.evicted.clear();
    this.queue = [];
    this.empty.hidden = false;
  }

  // Marks the row of an op this page produced (now or when it arrives).
  highlight(origin, hlc) {
    const key = `${origin}/${hlc}`;
    this.mine.add(key);
    const row = this.rows.get(key);
    if (row) row.tr.classList.add('mine');
  }

  push(e) {
    if (!e || !e.region) return;
    if (e.region === e.origin) this.originCount++;
    this.queue.push(e);
    if (!this.scheduled) {
      this.scheduled = true;
      this.due = performance.now() + this.interval;
      setTimeout(() => this.flush(), this.interval);
    }
  }

  flush() {
    this.scheduled = false;
    // A timer that fires late means the page is behind (rendering the last batch took longer
    // than the interval): draw less often until it keeps up again.
    const late = performance.now() - this.due;
    if (late > this.interval / 2) this.interval = Math.min(kMaxFlushMs, this.interval * 1.5);
    else if (late < 50) this.interval = Math.max(kFlushMs, this.interval / 1.2);
    const batch = this.queue;
    this.queue = [];
    // Only the newest kMaxNewRows new ops of a batch get rows; the rest are evicted undrawn.
    const fresh = [];
    const freshSet = new Set();
    for (const e of batch) {
      const key = opKey(e);
      if (!this.rows.has(key) && !this.evicted.has(key) && !freshSet.has(key)) {
        freshSet.add(key);
        fresh.push(key);
      }
    }
    const skip = new Set(this.paused ? fresh : fresh.slice(0, Math.max(0, fresh.length - kMaxNewRows)));
    this.fragment = document.createDocumentFragment();  // new rows, newest first
    for (const key of skip) this.evict(key);
    for (const e of batch) {
      const key = opKey(e);
      if (this.evicted.has(key)) continue;
      const row = this.rows.get(key) || this.addRow(key, e);
      this.markArrival(row, e);
    }
    this.body.prepend(this.fragment);  // one DOM insertion per flush
    this.trim();
  }

  addRow(key, e) {
    const marks = new Map();
    const cells = this.regions.map((r) => {
      const span = h('span', { class: `arrival ${this.colors.get(r)}`, dataset: { region: r },
        title: `not yet in ${r}` }, '—');
      marks.set(r, span);
      return h('span', { role: 'cell', class: 'c-arrival' }, span);
    });
    const tr = h('div', {
      role: 'row',
      class: this.mine.has(key) ? 'event-row mine' : 'event-row',
      dataset: { key, origin: e.origin || '', hlc: e.hlc || '' },
    },
    h('span', { role: 'cell', class: 'c-time' }, clock(e.ts_ms, true)),
    h('span', { role: 'cell', class: 'c-origin' },
      h('span', { class: `origin-tag ${this.colors.get(e.origin) || regionClass(-1)}` }, e.origin || '?')),
    h('span', { role: 'cell', class: 'c-op', title: opTitle(e) }, describeOp(e)),
    cells);
    const row = { tr, marks, ts: e.ts_ms };
    this.rows.set(key, row);
    this.fragment.prepend(tr);
    this.empty.hidden = true;
    return row;
  }

  markArrival(row, e) {
    const span = row.marks.get(e.region);
    if (!span || span.classList.contains('arrived')) return;
    const base = Number.isFinite(row.ts) ? row.ts : e.ts_ms;
    const ms = Math.max(0, Math.round((e.seen_ms || Date.now()) - base));
    span.classList.add('arrived');
    span.dataset.ms = String(ms);
    span.textContent = `+${ms} ms`;
    span.title = `${e.region}: ${e.topic || ''} partition ${e.partition} offset ${e.offset}, ` +
      `seen ${clock(e.seen_ms, true)} (${ms} ms after it was written)`;
  }

  evict(key) {
    const row = this.rows.get(key);
    if (row) {
      row.tr.remove();
      this.rows.delete(key);
    }
    this.evicted.add(key);
    if (this.evicted.size > kMaxEvicted) {
      this.evicted.delete(this.evicted.values().next().value);  // oldest first (insertion order)
    }
  }

  trim() {
    while (this.rows.size > kMaxRows) {
      const last = this.body.lastElementChild;
      if (!last) break;
      this.evict(last.dataset.key);
    }
  }
}
