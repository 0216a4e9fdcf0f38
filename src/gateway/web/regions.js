// Region columns: one per region, its dataset from GET api/regions/<r>/state polled every second,
// grouped by key prefix and type (stock counters, carts, VIP ranking, last orders, ...). Rows are
// keyed by Redis key and updated in place; a changed value is highlighted for one poll.

import { api, clear, h, regionClass, shorten } from './util.js';

const kPollMs = 1000;

// Friendly group titles by key prefix (the simulator's keyspace) and their display order.
const kTitles = {
  stock: 'Stock',
  sold: 'Sold',
  sales: 'Sales',
  cart: 'Carts',
  buyers: 'Buyers',
  vip: 'VIP ranking',
  'last-order': 'Last orders',
  orders: 'Orders',
  profile: 'Profiles',
};
const kFamilyTitles = {
  counter: 'Counters', register: 'Registers', set: 'Sets', zset: 'Rankings',
  hash: 'Hashes', list: 'Lists', stream: 'Streams', other: 'Other',
};
const kFamilyOrder = ['counter', 'set', 'zset', 'register', 'hash', 'list', 'stream', 'other'];

function family(entry) {
  switch (entry.type) {
    case 'string':
      return /^-?\d+$/.test(String(entry.value)) ? 'counter' : 'register';
    case 'set': case 'zset': case 'hash': case 'list': case 'stream':
      return entry.type;
    default:
      return 'other';
  }
}

// {id, title, fam, prefix} of the group a key is shown in.
function groupOf(key, entry) {
  const fam = family(entry);
  const colon = key.indexOf(':');
  let prefix = colon > 0 ? key.slice(0, colon) : '';
  if (!prefix && kTitles[key]) prefix = key;  // e.g. the `vip` sorted set
  const title = prefix ? (kTitles[prefix] || prefix) : kFamilyTitles[fam];
  return { id: `${prefix}|${fam}`, title, fam, prefix };
}

// The key as shown in its group: without the group's prefix, and "{sku1}" (a hash tag) as "sku1".
function label(key, group) {
  if (group.prefix && key === group.prefix) return key;
  const rest = group.prefix ? key.slice(group.prefix.length + 1) : key;
  return /^\{[^{}]+\}$/.test(rest) ? rest.slice(1, -1) : rest;
}

function chips(items, max) {
  const shown = items.slice(0, max).map((m) => h('span', { class: 'chip' }, shorten(m, 24)));
  if (items.length > max) shown.push(h('span', { class: 'more' }, `+${items.length - max}`));
  if (!items.length) shown.push(h('span', { class: 'more' }, 'empty'));
  return h('span', { class: 'chips' }, shown);
}

// The value element of one key. `ctx.max` is the largest counter of its group (stock bars).
function renderValue(entry, fam, ctx) {
  const v = entry.value;
  switch (fam) {
    case 'counter': {
      const n = Number(v);
      const parts = [h('span', { class: n < 0 ? 'num neg' : 'num' }, String(v))];
      if (ctx.bars) {
        const pct = ctx.max > 0 ? Math.max(0, Math.min(100, (n / ctx.max) * 100)) : 0;
        parts.push(h('span', { class: 'bar', 'aria-hidden': 'true' },
          h('i', { style: `width:${pct.toFixed(1)}%` })));
      }
      return h('span', { class: 'value' }, parts);
    }
    case 'register':
      return h('span', { class: 'value', title: String(v) }, shorten(v, 60));
    case 'set':
      return h('span', { class: 'value' }, chips(Array.isArray(v) ? v : [], 10));
    case 'list':
      return h('span', { class: 'value' }, chips(Array.isArray(v) ? v.slice(-10) : [], 10));
    case 'zset': {
      const rows = (Array.isArray(v) ? v : []).slice().reverse().slice(0, 10);  // highest first
      return h('ol', { class: 'value rank' }, rows.map(([m, s]) =>
        h('li', {}, h('span', {}, shorten(m, 20)), h('span', { class: 'score' }, String(s)))));
    }
    case 'hash': {
      const fields = Object.entries(v || {});
      if (fields.length <= 3) {  // inline: "tier=vip since=…"
        return h('span', { class: 'value', title: fields.map(([f, x]) => `${f}=${x}`).join('\n') },
          fields.map(([f, x], i) => [i ? ' ' : '', h('span', { class: 'more' }, `${f}=`), shorten(x, 16)]));
      }
      return h('dl', { class: 'value fields' }, fields.slice(0, 12).map(([f, x]) =>
        [h('dt', {}, shorten(f, 18)), h('dd', {}, shorten(x, 24))]));
    }
    case 'stream': {
      const entries = Array.isArray(v) ? v : [];
      const last = entries[entries.length - 1];
      return h('span', { class: 'value' }, `${entries.length} entries`,
        last ? h('span', { class: 'more' }, ` · last ${shorten(JSON.stringify(last[1]), 40)}`) : '');
    }
    default:
      return h('span', { class: 'value' }, shorten(JSON.stringify(v), 60));
  }
}

// Puts `el` right after `prev` (first when null) in `parent`, touching the DOM only when it is
// not there already. Returns el (the next call's prev).
function place(parent, el, prev) {
  const want = prev ? prev.nextSibling : parent.firstChild;
  if (want !== el) parent.insertBefore(el, want);
  return el;
}

// Updates the value of a counter or register row in place (most rows, most of the time: cheaper
// than rebuilding them every second). False when the row needs a full render.
function patchValue(row, entry, fam, ctx) {
  const el = row.valueEl;
  if (!el) return false;
  if (fam === 'register') {
    el.textContent = shorten(entry.value, 60);
    el.title = String(entry.value);
    return true;
  }
  if (fam !== 'counter') return false;
  const num = el.firstElementChild;
  const n = Number(entry.value);
  num.textContent = String(entry.value);
  num.className = n < 0 ? 'num neg' : 'num';
  const bar = ctx.bars && el.querySelector('.bar > i');
  if (bar) bar.style.width = `${(ctx.max > 0 ? Math.max(0, Math.min(100, (n / ctx.max) * 100)) : 0).toFixed(1)}%`;
  return true;
}

// One region's column. Owned by RegionsView; updated from its poll loop only.
class RegionColumn {
  constructor(name, index) {
    this.name = name;
    this.groups = new Map();  // group id -> {el, list}
    this.rows = new Map();    // key -> {el, sig, view}
    this.digest = '';
    this.status = h('span', { class: 'region-status', dataset: { reachable: 'unknown' } }, '…');
    this.meta = h('div', { class: 'region-meta' });
    this.keysEl = h('span', {}, '— keys');
    this.digestEl = h('span', { class: 'digest', title: 'sha1 of the dataset' }, 'digest —');
    this.meta.append(this.keysEl, this.digestEl);
    this.body = h('div', { class: 'region-body' }, h('p', { class: 'empty' }, 'loading…'));
    this.el = h('article', {
      class: `region ${regionClass(index)}`, id: `region-${name}`,
      dataset: { region: name, reachable: 'unknown' }, 'aria-label': `Region ${name}`,
    }, h('div', { class: 'region-head' },
      h('div', { class: 'region-title' }, h('h2', {}, name), this.status), this.meta), this.body);
  }

  setError(message) {
    this.el.dataset.reachable = 'false';
    this.status.dataset.reachable = 'false';
    this.status.textContent = 'unreachable';
    this.status.title = message;
  }

  update(state) {
    const reachable = state.reachable !== false;
    this.el.dataset.reachable = String(reachable);
    this.status.dataset.reachable = String(reachable);
    this.status.textContent = reachable ? 'live' : 'unreachable';
    this.status.title = reachable ? '' : (state.error || 'Redis unreachable');
    this.digest = state.digest || '';
    this.el.dataset.digest = this.digest;
    const data = state.data || {};
    const keys = Object.keys(data).sort();
    const n = Number.isFinite(state.keys) ? state.keys : keys.length;
    this.keysEl.textContent = state.truncated ? `${keys.length} of ${n} keys` : `${n} keys`;
    this.digestEl.textContent = this.digest ? `digest ${this.digest.slice(0, 8)}` : 'digest —';
    if (!reachable) return;

    // Group the keys; counters of a prefix share a scale for their bars.
    const grouped = new Map();
    for (const key of keys) {
      const g = groupOf(key, data[key]);
      if (!grouped.has(g.id)) grouped.set(g.id, { g, keys: [], max: 0 });
      const entry = grouped.get(g.id);
      entry.keys.push(key);
      if (g.fam === 'counter') entry.max = Math.max(entry.max, Number(data[key].value) || 0);
    }
    const order = [...grouped.values()].sort((a, b) =>
      (a.g.prefix === 'stock' ? -1 : 0) - (b.g.prefix === 'stock' ? -1 : 0) ||
      kFamilyOrder.indexOf(a.g.fam) - kFamilyOrder.indexOf(b.g.fam) ||
      a.g.title.localeCompare(b.g.title));

    if (!order.length) {
      clear(this.body);
      this.groups.clear();
      this.rows.clear();
      this.body.append(h('p', { class: 'empty' }, 'no keys yet'));
      return;
    }
    const seenGroups = new Set();
    const seenKeys = new Set();
    let prevGroup = null;
    for (const { g, keys: gkeys, max } of order) {
      seenGroups.add(g.id);
      let group = this.groups.get(g.id);
      if (!group) {
        // Many small counters (stock of every sku) sit in two columns.
        const list = h('div', { class: 'group-list' });
        group = { el: h('section', { class: 'group', dataset: { group: g.id } }, h('h3', {}, g.title), list), list };
        this.groups.set(g.id, group);
      }
      prevGroup = place(this.body, group.el, prevGroup);
      group.list.classList.toggle('two-col', g.fam === 'counter' && gkeys.length > 4);
      const ctx = { bars: g.fam === 'counter' && gkeys.length > 1, max };
      let prevRow = null;
      for (const key of gkeys) {
        seenKeys.add(key);
        prevRow = place(group.list, this.updateRow(key, data[key], g, ctx), prevRow);
      }
    }
    for (const [id, group] of this.groups) {
      if (!seenGroups.has(id)) { group.el.remove(); this.groups.delete(id); }
    }
    for (const [key, row] of this.rows) {
      if (!seenKeys.has(key)) { row.el.remove(); this.rows.delete(key); }
    }
    for (const p of this.body.querySelectorAll(':scope > p.empty')) p.remove();
  }

  // The row element of `key`, created or updated (not yet placed).
  updateRow(key, entry, g, ctx) {
    const sig = JSON.stringify([entry.type, entry.value]);
    const view = `${sig}|${ctx.max}|${entry.ttl_ms > 0 ? 'ttl' : ''}`;
    let row = this.rows.get(key);
    const block = g.fam === 'zset' ||
      (g.fam === 'hash' && Object.keys(entry.value || {}).length > 3);
    if (!row) {
      row = { el: h('div', { class: 'kv', dataset: { key } }), sig, view: '' };
      this.rows.set(key, row);
    }
    // A changed value stays highlighted until the next poll finds it unchanged (a class toggle,
    // no per-frame animation: the page stays cheap while the simulator changes everything).
    row.el.classList.toggle('flash', row.sig !== sig && row.view !== '');
    row.sig = sig;
    if (row.view !== view) {
      row.view = view;
      const structure = `${g.fam}|${ctx.bars}|${entry.ttl_ms > 0}|${block}`;
      if (row.structure !== structure || !patchValue(row, entry, g.fam, ctx)) {
        row.structure = structure;
        row.el.dataset.type = entry.type;
        row.el.classList.toggle('block', block);
        clear(row.el);
        row.el.append(h('span', { class: 'k', title: key }, label(key, g)));
        if (entry.ttl_ms > 0) row.el.append(h('span', { class: 'ttl', title: 'has a TTL' }, '⏱'));
        row.valueEl = renderValue(entry, g.fam, ctx);
        row.el.append(row.valueEl);
      }
    }
    return row.el;
  }
}

// All region columns and their poll loops. Created once the region list is known.
export class RegionsView {
  constructor(root, names) {
    this.root = root;
    this.columns = new Map();
    clear(root);
    names.forEach((name, i) => {
      const col = new RegionColumn(name, i);
      this.columns.set(name, col);
      root.append(col.el);
    });
  }

  // Polls every region, then redraws all columns at once (one render per second, not one per
  // region); the next round starts kPollMs after this one ended.
  async start() {
    const cols = [...this.columns.values()];
    const results = await Promise.all(cols.map((col) =>
      api('GET', `api/regions/${encodeURIComponent(col.name)}/state`)));
    results.forEach((r, i) => {
      if (r.ok) cols[i].update(r.data);
      else cols[i].setError(r.data.error || `HTTP ${r.status}`);
    });
    this.markDigests();
    setTimeout(() => this.start(), kPollMs);
  }

  // Colours each column's digest green when every region shows the same one.
  markDigests(digests) {
    const ds = digests || Object.fromEntries([...this.columns].map(([n, c]) => [n, c.digest]));
    const values = Object.values(ds).filter(Boolean);
    const same = values.length === this.columns.size && values.every((d) => d === values[0]);
    for (const c of this.columns.values()) c.digestEl.dataset.same = String(same);
  }
}
