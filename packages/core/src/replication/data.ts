/**
 * Receiving data: runs of log lines (appended at our end or staged as a new epoch), file chunks,
 * and a peer's `diverged` or `gone` answer to a want.
 */
import { bytesEqual } from '../bytes.js';
import { GENESIS, samePos, ZERO_HASH } from '../log/position.js';
import { MAX_DATA_BYTES, type Message } from '../protocol/index.js';
import type { Effect } from './effects.js';
import { compareVersions } from './version.js';
import { type Fetch, key, type PeerLink, type ReplicatorState } from './state.js';
import { commitEmpty, dropFetch, fetchFor } from './fetch.js';
import { conflictThenOthers, evaluate } from './need.js';

export function onLogData(st: ReplicatorState, s: PeerLink, msg: Extract<Message, { t: 'logData' }>, now: number): Effect[] {
  const fe = fetchFor(st, s.peer, msg.folder, msg.name, msg.wantId);
  if (!fe || fe.mode === 'file') return [];
  const f = st.folders.get(fe.folder)!;
  if (compareVersions(fe.target.version, msg.version) !== 'equal') return restart(st, fe, now);
  if (msg.chunk === 0) {
    if (!samePos(msg.start, fe.expected)) return restart(st, fe, now);
    fe.runStart = msg.start;
    fe.parts = [];
    fe.partBytes = 0;
    fe.nextChunk = 0;
  } else if (fe.runStart === null || msg.chunk !== fe.nextChunk || !samePos(msg.start, fe.runStart)) {
    return restart(st, fe, now);
  }
  fe.parts.push(msg.data);
  fe.partBytes += msg.data.length;
  fe.nextChunk += 1;
  if (fe.partBytes > st.maxLineBytes + MAX_DATA_BYTES) {
    st.notes.push(`${fe.folder}/${fe.name}: a line from ${s.name} exceeds ${st.maxLineBytes} bytes; not replicated`);
    st.failed.set(`${key(fe.folder, fe.name)}\u0000${fe.peer}`, fe.target.seq);
    return dropFetch(st, fe, true);
  }
  if (msg.end === null) {
    // A sender finishes one line before it starts another, so the parts another pull from
    // this peer still holds were abandoned: pull that item again. Held on to, they would let a
    // peer make us keep a line's worth of memory (up to maxLineBytes) for every item at once.
    if (msg.chunk !== 0) return [];
    const abandoned = [...st.fetches.values()].filter((o) => o !== fe && o.peer === fe.peer && o.partBytes > 0);
    return abandoned.flatMap((o) => restart(st, o, now));
  }
  const start = fe.runStart!;
  const data = fe.parts;
  fe.runStart = null;
  fe.parts = [];
  fe.partBytes = 0;
  fe.expected = msg.end;
  if (fe.mode === 'append') {
    return [{ t: 'append', folder: f.cfg.id, name: fe.name, start, data, end: msg.end, mtimeMs: msg.mtimeMs, mode: fe.target.mode }];
  }
  // A new epoch written beside the old content until it reaches the announced end.
  fe.staged = true;
  const out: Effect[] = data.map((d, i) => ({ t: 'stageWrite', folder: f.cfg.id, name: fe.name, offset: start.offset + sumLengths(data, i), data: d }) as const);
  if (msg.end.offset >= fe.target.size) {
    out.push({ t: 'stageCommit', folder: f.cfg.id, name: fe.name, target: { kind: 'log', size: msg.end.offset, lines: msg.end.line, hash: msg.end.hash, mtimeMs: msg.mtimeMs, mode: fe.target.mode }, expected: fe.replaces });
  }
  return out;
}

export function onFileData(st: ReplicatorState, s: PeerLink, msg: Extract<Message, { t: 'fileData' }>, now: number): Effect[] {
  const fe = fetchFor(st, s.peer, msg.folder, msg.name, msg.wantId);
  if (!fe || fe.mode !== 'file') return [];
  if (compareVersions(fe.target.version, msg.version) !== 'equal' || !bytesEqual(msg.hash, fe.target.hash) || msg.offset !== fe.expected.offset) return restart(st, fe, now);
  fe.staged = true;
  fe.expected = { offset: msg.offset + msg.data.length, line: 0, hash: ZERO_HASH };
  const out: Effect[] = [{ t: 'stageWrite', folder: fe.folder, name: fe.name, offset: msg.offset, data: msg.data }];
  if (msg.done) {
    out.push({ t: 'stageCommit', folder: fe.folder, name: fe.name, target: { kind: 'file', size: msg.size, lines: 0, hash: msg.hash, mtimeMs: msg.mtimeMs, mode: msg.mode }, expected: fe.replaces });
  }
  return out;
}

export function onDiverged(st: ReplicatorState, s: PeerLink, msg: Extract<Message, { t: 'diverged' }>, now: number): Effect[] {
  const fe = fetchFor(st, s.peer, msg.folder, msg.name, msg.wantId);
  if (!fe) return [];
  const f = st.folders.get(fe.folder)!;
  const l = f.local.get(fe.name);
  st.fetches.delete(key(fe.folder, fe.name));
  if (!l || l.deleted) return evaluate(st, f, fe.name, now);
  if (compareVersions(l.version, fe.target.version) === 'lesser') {
    // A newer epoch that does not extend our log: fetch it whole, beside ours.
    if (fe.target.size === 0) return commitEmpty(st, f, fe);
    const wantId = st.nextWantId++;
    st.fetches.set(key(fe.folder, fe.name), { ...fe, wantId, mode: 'stage', expected: GENESIS, runStart: null, parts: [], partBytes: 0, nextChunk: 0, staged: false });
    return [{ t: 'send', peer: s.peer, msg: { t: 'want', folder: fe.folder, name: fe.name, wantId, version: fe.target.version, kind: 'log', from: GENESIS, hash: fe.target.hash } }];
  }
  const r = f.peers.get(s.peer)?.items.get(fe.name) ?? fe.target;
  return conflictThenOthers(st, f, l, r, s.peer, now);
}

export function onGone(st: ReplicatorState, s: PeerLink, msg: Extract<Message, { t: 'gone' }>, now: number): Effect[] {
  const fe = fetchFor(st, s.peer, msg.folder, msg.name, msg.wantId);
  if (!fe) return [];
  const out = dropFetch(st, fe, false);
  st.failed.set(`${key(fe.folder, fe.name)}\u0000${fe.peer}`, fe.target.seq);
  return [...out, ...evaluate(st, st.folders.get(fe.folder)!, fe.name, now)];
}

/** A run that does not fit where we are: cancel and decide again from the indexes. */
export function restart(st: ReplicatorState, fe: Fetch, now: number): Effect[] {
  return [...dropFetch(st, fe, true), ...evaluate(st, st.folders.get(fe.folder)!, fe.name, now)];
}

function sumLengths(parts: readonly Uint8Array[], n: number): number {
  let s = 0;
  for (let i = 0; i < n; i++) s += parts[i]!.length;
  return s;
}
