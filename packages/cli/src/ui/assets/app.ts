/**
 * The page's script (an ES module the browser runs, kept here as text so the installed package
 * serves it: no build step, no CDN). Hash routes: #/devices, #/sessions, #/session/<id>,
 * #/folders, #/trash, #/pair. Everything is built with the DOM (no HTML from data), every action is
 * a link or a button, and pages refresh by polling the JSON API.
 */
export const SCRIPT = String.raw`
const NL = String.fromCharCode(10);
const FENCE = String.fromCharCode(96).repeat(3);
const main = document.getElementById('main');
let timer = null;
let gen = 0;

function h(tag, attrs, ...kids) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else if (k === 'text') el.textContent = v;
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  for (const k of kids.flat()) if (k !== null && k !== undefined && k !== false) el.append(k instanceof Node ? k : document.createTextNode(String(k)));
  return el;
}

async function api(path, opts) {
  const r = await fetch('/api' + path, Object.assign({ credentials: 'same-origin', headers: { 'Content-Type': 'application/json' } }, opts || {}));
  const body = await r.json().catch(() => null);
  if (!r.ok) throw Object.assign(new Error(body && body.code ? body.code + ': ' + body.message : 'HTTP ' + r.status), { code: body && body.code });
  return body;
}

function note(text) {
  const n = document.getElementById('note');
  n.textContent = text;
  setTimeout(() => { if (n.textContent === text) n.textContent = ''; }, 4000);
}

function ago(ms) {
  if (ms === null || ms === undefined) return 'never';
  const s = Math.round((Date.now() - ms) / 1000);
  if (s < 60) return s + ' s ago';
  if (s < 3600) return Math.round(s / 60) + ' min ago';
  if (s < 86400) return Math.round(s / 3600) + ' h ago';
  return Math.round(s / 86400) + ' d ago';
}
function bytes(n) { return n < 1024 ? n + ' B' : n < 1048576 ? (n / 1024).toFixed(1) + ' KiB' : (n / 1048576).toFixed(1) + ' MiB'; }

/** Runs fn now and every ms while this page is shown. */
function every(ms, fn) {
  const mine = gen;
  const tick = async () => {
    if (mine !== gen) return;
    try { await fn(); } catch (e) { document.getElementById('daemon').textContent = String(e.message || e); }
    if (mine === gen) timer = setTimeout(tick, ms);
  };
  tick();
}

function page(title, ...kids) {
  main.replaceChildren(h('h1', { text: title }), ...kids);
}

// --- devices
function devices() {
  const box = h('div', {});
  page('Devices', box);
  let last = '';
  every(1000, async () => {
    const s = await api('/status');
    const key = JSON.stringify([s.peers, s.folders]);
    document.getElementById('daemon').textContent = 'this device: ' + s.name;
    if (key === last) return;
    last = key;
    const here = s.folders.reduce((a, f) => a + f.items, 0);
    const rows = s.peers.map((p) => {
      // Two bars: what this device has of what it needs from the peer, and the peer of what it needs from here.
      const total = Math.max(here + p.need.items, 1);
      const done = total - p.need.items;
      const theirs = Math.max(here, p.peerNeeds.items, 1);
      return h('tr', { 'data-peer': p.name },
        h('td', {}, h('strong', { text: p.name }), h('div', { class: 'muted', text: p.role === 'relay' ? 'relay' : p.deviceId.slice(0, 12) })),
        h('td', {}, h('span', { class: p.connected ? 'on' : 'off', text: p.connected ? 'connected' : 'not connected' }), p.paused ? ' (paused)' : ''),
        h('td', { text: p.via === null ? '-' : p.via === 'relay' ? 'relayed via ' + (p.relay || '?') : 'direct' }),
        h('td', { text: p.connected ? 'now' : ago(p.lastSeen) }),
        h('td', {},
          h('div', { class: 'bar' }, h('span', { text: 'here' }), h('progress', { max: total, value: done, 'aria-label': 'this device, of what it needs from ' + p.name })),
          h('div', { class: 'bar' }, h('span', { text: 'there' }), h('progress', { max: theirs, value: theirs - p.peerNeeds.items, 'aria-label': p.name + ', of what it needs from this device' })),
          h('div', { class: 'muted', text: p.inSync ? 'in sync' : 'needs ' + p.need.items + ' item(s), ' + bytes(p.need.bytes) + '; it needs ' + p.peerNeeds.items + ' item(s)' + (p.offers.length ? '; offers ' + p.offers.join(', ') : '') })));
    });
    box.replaceChildren(
      h('p', {}, 'This device: ', h('strong', { text: s.name }), ' (roam ' + s.version + '), listening on ' + (s.addresses.join(', ') || 'nothing')),
      s.peers.length
        ? h('table', {}, h('thead', {}, h('tr', {}, ['Device', 'Connection', 'How', 'Last seen', 'Sync'].map((t) => h('th', { text: t })))), h('tbody', {}, rows))
        : h('p', {}, 'No devices yet: ', h('a', { href: '#/pair', text: 'pair one' }), '.'),
      h('h2', { text: 'Folders' }),
      h('ul', {}, s.folders.map((f) => h('li', { text: f.id + ': ' + f.path + ', ' + f.items + ' item(s), ' + bytes(f.bytes) }))));
  });
}

// --- sessions
const filters = { tool: '', project: '', device: '', q: '' };
function sessions() {
  const table = h('div', { id: 'sessions' });
  const input = (name, label, type) => h('label', {}, label, h(type || 'input', { name, value: filters[name], type: 'search', oninput: (e) => { filters[name] = e.target.value; refresh(); } }));
  const tool = h('select', { name: 'tool', onchange: (e) => { filters.tool = e.target.value; refresh(); } }, h('option', { value: '', text: 'every tool' }));
  api('/tools').then((ts) => { for (const t of ts) tool.append(h('option', { value: t, text: t, selected: t === filters.tool })); });
  const device = h('select', { name: 'device', onchange: (e) => { filters.device = e.target.value; refresh(); } }, h('option', { value: '', text: 'every device' }));
  let known = '';
  const devices = (names) => {
    if (!names || JSON.stringify(names) === known) return;
    known = JSON.stringify(names);
    device.replaceChildren(h('option', { value: '', text: 'every device' }), ...names.map((n) => h('option', { value: n, text: n, selected: n === filters.device })));
  };
  page('Sessions',
    h('form', { class: 'filters', role: 'search', onsubmit: (e) => { e.preventDefault(); refresh(); } },
      input('q', 'Search text'), input('project', 'Project'), h('label', {}, 'Tool', tool), h('label', {}, 'Device', device)),
    table);
  let last = '';
  let pending = false;
  // One page of rows first (the server sends the newest and a count); more on request.
  let shown = 100;
  async function load() {
    const qs = new URLSearchParams(Object.assign({ limit: String(shown) }, filters)).toString();
    const r = await api('/sessions?' + qs);
    const key = qs + JSON.stringify(r);
    if (key === last) return;
    last = key;
    devices(r.devices);
    const link = (s) => h('a', { href: '#/session/' + encodeURIComponent(s.id), text: s.title || '(untitled)' });
    if (r.search) {
      table.replaceChildren(h('p', { class: 'muted', text: r.hits.length + ' hit(s)' + (r.more ? ' (more not shown)' : '') }),
        h('table', {}, h('thead', {}, h('tr', {}, ['Session', 'Tool', 'Device', 'Line', 'Role', 'Text'].map((t) => h('th', { text: t })))),
          h('tbody', {}, r.hits.map((x) => h('tr', {}, h('td', {}, link(x.session)), h('td', { text: x.session.tool }), h('td', { text: x.session.device || '-' }), h('td', { text: x.line }), h('td', { text: x.role }), h('td', { text: x.snippet }))))));
      return;
    }
    // After the frame that shows the list: what bench/ui.ts reads as the page's first paint.
    if (!performance.getEntriesByName('sessions-painted').length) requestAnimationFrame(() => setTimeout(() => performance.mark('sessions-painted')));
    table.replaceChildren(h('p', { class: 'muted', text: r.total + ' session(s), newest first' + (r.total > r.sessions.length ? ' (first ' + r.sessions.length + ' shown)' : '') }),
      h('table', {}, h('thead', {}, h('tr', {}, ['Session', 'Tool', 'Device', 'Project', 'Last activity', 'Messages'].map((t) => h('th', { text: t })))),
        h('tbody', {}, r.sessions.map((s) => h('tr', { 'data-session': s.id, 'data-device': s.device || '' }, h('td', {}, link(s), h('div', { class: 'muted', text: s.id })), h('td', { text: s.tool }), h('td', { text: s.device || '-' }), h('td', { text: s.cwd || s.projectKey }), h('td', { text: ago(Date.parse(s.lastActivity)) }), h('td', { text: (s.messagesExact ? '' : '~') + s.messages }))))),
      r.total > r.sessions.length ? h('button', { type: 'button', onclick: () => { shown += 100; refresh(); } }, 'Show more') : null);
  }
  async function refresh() {
    if (pending) return;
    pending = true;
    try { await load(); } finally { pending = false; }
  }
  every(1500, refresh);
}

// --- one session
function highlight(code) {
  const el = h('code', {});
  const re = /(\/\/[^\n]*|#[^\n]*|"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|\b(?:const|let|var|function|return|if|else|for|while|import|export|from|class|def|async|await|new|try|catch|throw)\b)/g;
  let at = 0;
  for (const m of code.matchAll(re)) {
    el.append(code.slice(at, m.index));
    const t = m[0];
    el.append(h('span', { class: t[0] === '"' || t[0] === "'" ? 'str' : t[0] === '/' || t[0] === '#' ? 'com' : 'kw', text: t }));
    at = m.index + t.length;
  }
  el.append(code.slice(at));
  return el;
}
function prose(text) {
  const out = [];
  const parts = text.split(FENCE);
  parts.forEach((part, i) => {
    if (i % 2 === 1) {
      const nl = part.indexOf(NL);
      out.push(h('pre', {}, highlight(nl >= 0 ? part.slice(nl + 1) : part)));
    } else if (part.trim()) out.push(h('p', { text: part.trim() }));
  });
  return out;
}
async function copy(text) {
  try { await navigator.clipboard.writeText(text); note('copied: ' + text); } catch { note(text); }
}
async function session(id) {
  page('Session');
  const r = await api('/session/' + encodeURIComponent(id));
  const s = r.session;
  const status = h('span', { role: 'status' });
  const restoreBtn = h('button', { type: 'button', onclick: async () => {
    try { const x = await api('/restore/' + encodeURIComponent(s.id), { method: 'POST' }); status.textContent = 'restored ' + x.restored.length + ' file(s)'; } catch (e) { status.textContent = e.message; }
  } }, 'Restore from the trash');
  const rmBtn = h('button', { type: 'button', class: 'danger', onclick: async () => {
    if (!confirm('Delete session ' + s.id + ' on every device? (each keeps it in its trash)')) return;
    const remove = (force) => api('/session/' + encodeURIComponent(s.id) + '/rm' + (force ? '?force=1' : ''), { method: 'POST' });
    try {
      let x;
      try { x = await remove(false); } catch (e) {
        // Open here or held by another device: say so, and remove it only if asked again.
        if (e.code !== 'ROAM_SESSION_BUSY' || !confirm(e.message + NL + NL + 'Remove it anyway?')) throw e;
        x = await remove(true);
      }
      status.textContent = 'removed on every device: ' + x.items.length + ' file(s)';
    } catch (e) { status.textContent = e.message; }
  } }, 'Remove on every device');
  const turn = (e) => h('article', { class: 'turn ' + e.role },
    h('h3', { text: e.role + (e.timestamp ? ' · ' + new Date(e.timestamp).toLocaleString() : '') }),
    prose(e.text),
    e.toolUses.map((u) => h('details', {}, h('summary', { text: 'tool call: ' + u.name }), h('pre', {}, h('code', { text: JSON.stringify(u.input, null, 2) })))),
    e.toolResults.map((t) => h('details', {}, h('summary', { text: 'tool result' + (t.isError ? ' (error)' : '') }), h('pre', {}, h('code', { text: t.text })))));
  const turns = r.entries.filter((e) => !e.meta).map(turn);
  // Sub-agents: each delegated task's own conversation, folded.
  const agents = (r.subagents || []).map((a) => h('details', { class: 'subagent', 'data-agent': a.id },
    h('summary', { text: 'sub-agent ' + a.id + (a.description ? ': ' + a.description : '') + ' (' + a.entries.length + ' turn(s))' }),
    a.entries.filter((e) => !e.meta).map(turn)));
  page(s.title || '(untitled)',
    h('p', { class: 'muted', text: s.tool + ' · ' + s.id + ' · ' + (s.cwd || s.projectKey) + (s.gitBranch ? ' · ' + s.gitBranch : '') + ' · ' + s.messages + ' message(s)' }),
    h('div', { class: 'actions' },
      h('button', { type: 'button', onclick: () => copy(r.resume) }, 'Copy resume command'),
      h('button', { type: 'button', onclick: () => copy(r.fork) }, 'Copy fork command'),
      h('a', { href: '/api/session/' + encodeURIComponent(s.id) + '/share', download: 'roam-' + s.id + '.json.gz' }, 'Download share bundle'),
      h('a', { href: '/api/session/' + encodeURIComponent(s.id) + '/export?format=md', download: s.id + '.md' }, 'Export as markdown (redacted)'),
      rmBtn, restoreBtn, status),
    h('p', {}, h('code', { class: 'cmd', text: r.resume })),
    h('section', { 'aria-label': 'conversation' }, turns),
    agents.length ? h('section', { 'aria-label': 'sub-agents' }, h('h2', { text: 'Sub-agents' }), agents) : null);
}

// --- trash
function trash() {
  const box = h('div', {});
  page('Trash', box);
  let last = '';
  every(2000, async () => {
    const r = await api('/trash');
    const key = JSON.stringify(r);
    if (key === last) return;
    last = key;
    box.replaceChildren(h('p', { class: 'muted', text: 'roam keeps what it removes or replaces for ' + r.keepDays + ' days.' }),
      r.entries.length ? h('table', {}, h('tbody', {}, r.entries.map((e) => h('tr', {},
        h('td', { text: e.name }), h('td', { text: e.folder }), h('td', { text: e.session || '' }),
        h('td', {}, h('button', { type: 'button', onclick: async () => { try { await api('/restore/' + encodeURIComponent(e.id), { method: 'POST' }); note('restored ' + e.name); } catch (x) { note(x.message); } } }, 'Restore')))))) : h('p', { text: 'The trash is empty.' }));
  });
}

// --- folders: selective sync
function folders() {
  const box = h('div', {});
  page('Folders and projects', h('p', { class: 'muted', text: 'Unchecked projects stop syncing with every device; nothing is deleted.' }), box);
  let last = '';
  every(2000, async () => {
    const rows = await api('/projects');
    const key = JSON.stringify(rows);
    if (key === last) return;
    last = key;
    const byFolder = {};
    for (const p of rows) (byFolder[p.folder] = byFolder[p.folder] || []).push(p);
    box.replaceChildren(...Object.entries(byFolder).map(([folder, ps]) => h('fieldset', {}, h('legend', { text: folder }),
      ps.map((p) => h('div', {}, h('label', { class: 'inline' },
        h('input', { type: 'checkbox', checked: p.synced, 'data-project': p.name, onchange: async (e) => {
          try { await api('/projects', { method: 'POST', body: JSON.stringify({ folder, name: p.name, synced: e.target.checked }) }); note((e.target.checked ? 'syncing ' : 'stopped ') + p.name); } catch (x) { note(x.message); e.target.checked = !e.target.checked; }
        } }),
        p.name + ' (' + p.here + ' here, ' + (p.onPeers === null ? '?' : p.onPeers) + ' on other devices)'))))));
  });
}

// --- conflicts: both continuations side by side, the common prefix marked
const UUID = /([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\.jsonl$/i;
async function conflictsPage() {
  page('Conflicts and forks');
  const list = await api('/conflicts');
  if (!list.length) { main.append(h('p', { text: 'No conflicts: every session has one continuation.' })); return; }
  for (const c of list) {
    const ids = [UUID.exec(c.original), UUID.exec(c.copy)].map((m) => m && m[1]);
    const sec = h('section', { class: 'conflict' }, h('h2', { text: c.folder + '/' + c.original }),
      h('p', { class: 'muted', text: (c.kind === 'fork' ? 'fork' : 'Syncthing conflict copy') + ': ' + c.copy + (c.commonLines !== null ? ' (' + c.commonLines + ' line(s) in common)' : '') }));
    main.append(sec);
    if (!ids[0] || !ids[1]) continue;
    const [a, b] = await Promise.all(ids.map((id) => api('/session/' + id).catch(() => null)));
    if (!a || !b) continue;
    const shared = new Set(a.entries.map((e) => e.uuid).filter((u) => u && b.entries.some((x) => x.uuid === u)));
    const column = (r, label) => h('div', { class: 'side' }, h('h3', {}, label + ' ', h('a', { href: '#/session/' + r.session.id, text: r.session.id })),
      r.entries.filter((e) => !e.meta).map((e) => h('article', { class: 'turn ' + e.role + (shared.has(e.uuid) ? ' common' : '') }, h('h3', { text: e.role + (shared.has(e.uuid) ? ' · common' : '') }), prose(e.text))));
    sec.append(h('div', { class: 'sides' }, column(a, 'kept the name:'), column(b, 'other continuation:')));
  }
}

// --- pairing
function pair() {
  const box = h('div', {});
  const start = h('button', { type: 'button', onclick: async () => { try { show(await api('/pair', { method: 'POST' })); } catch (e) { note(e.message); } } }, 'Invite a device');
  page('Pair a device', h('p', {}, 'On the other device run ', h('code', { class: 'cmd', text: 'roam pair <code>' }), ' with the code below, or scan it.'), start, box);
  function show(inv) {
    if (!inv) return;
    const kids = [];
    if (inv.code) kids.push(h('p', { class: 'code', id: 'pair-code', text: inv.code }), h('p', { class: 'muted', text: 'valid until ' + new Date(inv.expiresAt).toLocaleTimeString() }));
    if (inv.qr) {
      const svg = new DOMParser().parseFromString(inv.qr, 'image/svg+xml').documentElement;
      svg.setAttribute('role', 'img');
      svg.setAttribute('aria-label', 'QR code of the pairing code');
      kids.push(h('div', { class: 'qr' }, document.importNode(svg, true)));
    }
    if (inv.result) kids.push(h('p', { class: 'on', id: 'pair-done', text: inv.result.joined.name + ' joined' }));
    if (inv.error) kids.push(h('p', { class: 'off', text: inv.error.code + ': ' + inv.error.message }));
    box.replaceChildren(...kids);
  }
  every(1000, async () => show(await api('/pair')));
}

function route() {
  gen++;
  clearTimeout(timer);
  const hash = location.hash || '#/devices';
  for (const a of document.querySelectorAll('nav a')) {
    if (hash.startsWith(a.getAttribute('href'))) a.setAttribute('aria-current', 'page'); else a.removeAttribute('aria-current');
  }
  const [, name, arg] = hash.split('/');
  const pages = { devices, sessions, folders, trash, pair, conflicts: () => conflictsPage().catch((e) => page('Conflicts and forks', h('p', { class: 'off', text: e.message }))) };
  if (name === 'session' && arg) session(decodeURIComponent(arg)).catch((e) => page('Session', h('p', { class: 'off', text: e.message })));
  else (pages[name] || devices)();
}
addEventListener('hashchange', route);
route();
`;
