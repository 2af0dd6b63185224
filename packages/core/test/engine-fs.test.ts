/**
 * Integration tests of two engines over real `FsFolderStore`s in temp dirs, joined by `linkPair`
 * (real encoded frames, in one process). Files are written the way the tools write them
 * (`fs.appendFileSync`, rewrites in place), followed by an explicit `scan` where a watcher would
 * call it. Nothing sleeps and then asserts: waits poll the disk with a deadline (`until`), and
 * "nothing more will arrive" is checked after a quiescence barrier (`quiesce`).
 */
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { Engine } from '../src/engine.js';
import { decodeMessage } from '../src/protocol/codec.js';
import { forkUuid } from '../src/replication/policy.js';
import type { Hasher } from '../src/log/hash.js';
import { FsFolderStore, nodeHasher, peerMode } from '../src/node/index.js';
import type { FolderConfig } from '../src/replication/replicator.js';
import { linkPair, type LinkPair } from '../src/testing/link-pair.js';
import { until } from './support/poll.js';
import { chainHash, cleanupAfterEach, tempDir } from './support/temp.js';

// ── Nodes, links, cleanup ────────────────────────────────────────────────────────────────────

const FOLDER: FolderConfig = { id: 'claude', conflict: 'fork', logDeletes: 'local' };
const A_ID = '00000000000000a1';
const B_ID = '00000000000000b2';

interface Node {
  readonly id: string;
  readonly home: string;
  readonly root: string;
  readonly store: FsFolderStore;
  readonly engine: Engine;
  readonly log: string[];
  close(): Promise<void>;
}

const cleanup = cleanupAfterEach();

/** A temp home for one device (removed after the test). */
function tempHome(label: string): string {
  const home = tempDir(cleanup, `roam-engine-fs-${label}-`);
  fs.mkdirSync(path.join(home, 'claude'), { recursive: true });
  return home;
}

/** Opens (or reopens) a device's engine over `<home>/claude`, its state in `<home>/state`. */
async function openNode(home: string, id: string, name: string, hasher: Hasher = nodeHasher): Promise<Node> {
  const root = path.join(home, 'claude');
  const store = await FsFolderStore.create({ root, stateDir: path.join(home, 'state') });
  const log: string[] = [];
  const engine = await Engine.open({
    device: id, name, software: 'roam-test', folders: [FOLDER],
    newIndexId: () => randomBytes(8).toString('hex'),
    stores: new Map([['claude', store]]), hasher, clock: { now: Date.now },
    log: (l) => log.push(l),
  });
  let closed = false;
  const node: Node = {
    id, home, root, store, engine, log,
    close: async () => {
      if (closed) return;
      closed = true;
      await engine.close();
    },
  };
  cleanup(() => node.close());
  return node;
}

async function link(a: Node, b: Node): Promise<LinkPair> {
  const pair = await linkPair({ id: a.id, engine: a.engine }, { id: b.id, engine: b.engine });
  cleanup(() => pair.close());
  return pair;
}

/** Two devices on fresh homes, linked. */
async function twoNodes(): Promise<{ a: Node; b: Node; pair: LinkPair }> {
  const a = await openNode(tempHome('a'), A_ID, 'laptop');
  const b = await openNode(tempHome('b'), B_ID, 'desktop');
  return { a, b, pair: await link(a, b) };
}

/**
 * Two devices on fresh homes, linked, that both hold `content` as the log `name` (A wrote it, then
 * scanned its folder, or only `names`) and have gone quiet.
 */
async function twoNodesSharing(name: string, content: string, names?: string[]): Promise<{ a: Node; b: Node; pair: LinkPair }> {
  const { a, b, pair } = await twoNodes();
  writeFile(a.root, name, content);
  await a.engine.scan('claude', names);
  await untilContent(b, name, content);
  await quiesce(pair, a, b);
  return { a, b, pair };
}

/**
 * Waits until both engines have handled every input and nothing is in flight either way: a full
 * pass (settle both, drain the link, settle again) during which no frame was carried.
 */
async function quiesce(pair: LinkPair, a: Node, b: Node): Promise<void> {
  for (;;) {
    const before = pair.carried.frames;
    await a.engine.settled();
    await b.engine.settled();
    await pair.drained();
    await a.engine.settled();
    await b.engine.settled();
    if (pair.carried.frames === before) return;
  }
}

// ── Files ────────────────────────────────────────────────────────────────────────────────────

interface TreeEntry {
  readonly bytes: Buffer;
  readonly mtimeMs: number;
  readonly mode: number;
}

/** Every regular file under `root`, by `/`-separated relative name, sorted. */
function readTree(root: string): Map<string, TreeEntry> {
  const out = new Map<string, TreeEntry>();
  const visit = (dir: string, prefix: string) => {
    for (const d of fs.readdirSync(dir, { withFileTypes: true }).sort((x, y) => (x.name < y.name ? -1 : 1))) {
      const abs = path.join(dir, d.name);
      if (d.isDirectory()) visit(abs, `${prefix}${d.name}/`);
      else if (d.isFile()) {
        const st = fs.statSync(abs);
        out.set(prefix + d.name, { bytes: fs.readFileSync(abs), mtimeMs: st.mtimeMs, mode: st.mode & 0o777 });
      }
    }
  };
  visit(root, '');
  return out;
}

/** Same names and same bytes. */
function sameTree(a: Map<string, TreeEntry>, b: Map<string, TreeEntry>): boolean {
  if (a.size !== b.size) return false;
  for (const [name, e] of a) {
    const o = b.get(name);
    if (!o || !o.bytes.equals(e.bytes)) return false;
  }
  return true;
}

/** Names and sizes, for timeout messages and readable assertion diffs. */
function sizes(tree: Map<string, TreeEntry>): Record<string, number> {
  return Object.fromEntries([...tree].map(([n, e]) => [n, e.bytes.length]));
}

/** Waits until both folders hold the same names and bytes. */
async function untilSameFolders(a: Node, b: Node, timeoutMs = 5000): Promise<void> {
  await until(() => sameTree(readTree(a.root), readTree(b.root)), {
    timeoutMs,
    what: `${b.root} to match ${a.root}`,
    detail: () => ({ a: sizes(readTree(a.root)), b: sizes(readTree(b.root)), aLog: a.log, bLog: b.log }),
  });
}

/** Waits until `file` under `root` holds exactly `expected`. */
async function untilContent(node: Node, name: string, expected: string, timeoutMs = 5000): Promise<void> {
  const p = path.join(node.root, name);
  await until(() => fs.existsSync(p) && fs.readFileSync(p, 'utf8') === expected, {
    timeoutMs,
    what: `${name} on ${node.id} to hold ${expected.length} expected bytes`,
    detail: () => ({ size: fs.existsSync(p) ? fs.statSync(p).size : null, log: node.log }),
  });
}

/** Writes `content` over the file `p` from its start through the same inode (no truncate, no rename). */
function rewriteInPlace(p: string, content: string): void {
  const ino = fs.statSync(p).ino;
  const fd = fs.openSync(p, 'r+');
  fs.writeSync(fd, content, 0);
  fs.closeSync(fd);
  expect(fs.statSync(p).ino).toBe(ino);
}

function writeFile(root: string, name: string, content: string | Buffer): void {
  const p = path.join(root, name);
  fs.mkdirSync(path.dirname(p), { recursive: true });
  fs.writeFileSync(p, content);
}


// ── Realistic Claude Code content (deterministic) ────────────────────────────────────────────

/** mulberry32: a small seeded PRNG, so every run writes the same bytes. */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function uuid(r: () => number): string {
  const h = Array.from({ length: 32 }, () => Math.floor(r() * 16).toString(16)).join('');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20)}`;
}

const WORDS = ['the', 'build', 'fails', 'in', 'src/app.ts', 'because', 'é', 'résumé', '😀', 'config', 'tsc', '"quoted"', 'line\nbreak', 'tab\there', 'café', '{json}', 'npm', 'test'];

function prose(r: () => number, words: number): string {
  return Array.from({ length: words }, () => WORDS[Math.floor(r() * WORDS.length)]).join(' ');
}

/**
 * `count` lines shaped like a Claude Code 2.1 transcript: user prompts, assistant text and
 * tool_use blocks, tool results, progress and file-history snapshots, linked by parentUuid.
 */
function sessionLines(seed: number, sessionId: string, count: number, opts: { sidechain?: boolean; cwd?: string } = {}): string[] {
  const r = rng(seed);
  const out: string[] = [];
  let parent: string | null = null;
  let t = Date.parse('2026-01-15T09:00:00.000Z') + seed * 1000;
  const base = { isSidechain: opts.sidechain ?? false, userType: 'external', cwd: opts.cwd ?? '/home/a/app', sessionId, version: '2.1.30', gitBranch: 'main' };
  for (let i = 0; i < count; i++) {
    t += Math.floor(r() * 4000);
    const id = uuid(r);
    const timestamp = new Date(t).toISOString();
    const kind = i === 0 ? 0 : Math.floor(r() * 6);
    let line: object;
    switch (kind) {
      case 0:
        line = { parentUuid: parent, ...base, type: 'user', message: { role: 'user', content: prose(r, 5 + Math.floor(r() * 40)) }, uuid: id, timestamp, promptId: uuid(r) };
        break;
      case 1:
        line = { parentUuid: parent, ...base, message: { id: `msg_${id.slice(0, 8)}`, type: 'message', role: 'assistant', model: 'claude-sonnet-4-5', content: [{ type: 'text', text: prose(r, 20 + Math.floor(r() * 200)) }], stop_reason: null, usage: { input_tokens: Math.floor(r() * 9000), output_tokens: Math.floor(r() * 900) } }, requestId: `req_${id.slice(0, 12)}`, type: 'assistant', uuid: id, timestamp };
        break;
      case 2:
        line = { parentUuid: parent, ...base, message: { role: 'assistant', content: [{ type: 'tool_use', id: `toolu_${id.slice(0, 10)}`, name: 'Bash', input: { command: 'npm test -- --run', description: prose(r, 6) } }] }, type: 'assistant', uuid: id, timestamp };
        break;
      case 3:
        line = { parentUuid: parent, ...base, type: 'user', message: { role: 'user', content: [{ tool_use_id: `toolu_${id.slice(0, 10)}`, type: 'tool_result', content: prose(r, 10 + Math.floor(r() * 300)), is_error: r() < 0.1 }] }, uuid: id, timestamp, toolUseResult: { stdout: prose(r, 30), stderr: '', interrupted: false } };
        break;
      case 4:
        line = { parentUuid: parent, ...base, type: 'progress', data: { type: 'bash_progress', output: prose(r, 8), elapsedTimeSeconds: Math.floor(r() * 30) }, toolUseID: `toolu_${id.slice(0, 10)}`, uuid: id, timestamp };
        break;
      default:
        line = { type: 'file-history-snapshot', messageId: id, snapshot: { messageId: id, trackedFileBackups: { 'src/app.ts': { backupFileName: `${id.slice(0, 16)}@v${i}`, version: i, backupTime: timestamp } }, timestamp }, isSnapshotUpdate: r() < 0.5 };
    }
    if (kind !== 5) parent = id;
    out.push(`${JSON.stringify(line)}\n`);
  }
  return out;
}

/** A copy of a realistic `~/.claude/projects/<key>/` folder, as Claude Code 2.1 leaves it. */
function writeClaudeProject(root: string): { sessions: string[]; files: string[] } {
  const r = rng(7);
  const dir = 'projects/-home-a-app';
  const [s1, s2, s3] = [uuid(r), uuid(r), uuid(r)] as const;
  const files: string[] = [];
  const put = (name: string, content: string | Buffer) => {
    writeFile(root, `${dir}/${name}`, content);
    files.push(`${dir}/${name}`);
  };
  put(`${s1}.jsonl`, sessionLines(1, s1, 300).join(''));
  put(`${s2}.jsonl`, sessionLines(2, s2, 250).join(''));
  put(`${s2}/subagents/agent-a3f9c2e.jsonl`, sessionLines(4, s2, 60, { sidechain: true }).join(''));
  put(`${s2}/subagents/agent-a3f9c2e.meta.json`, `${JSON.stringify({ agentId: 'a3f9c2e', agentType: 'Explore', description: 'Find the failing test', parentSessionId: s2 }, null, 2)}\n`);
  put(`${s3}.jsonl`, sessionLines(3, s3, 200).join(''));
  // A large tool output, referenced from the transcript by path: ~300 KB of `ls -lR`-like text.
  let listing = '';
  for (let i = 0; listing.length < 300 * 1024; i++) listing += `-rw-r--r-- 1 a a ${(i * 7919) % 100000} Jan 15 09:${String(i % 60).padStart(2, '0')} src/module-${i}/index-${i}.ts\n`;
  put(`${s3}/tool-results/toolu_1.txt`, listing);
  put('sessions-index.json', `${JSON.stringify({
    version: 1,
    entries: [s1, s2, s3].map((s, i) => ({
      sessionId: s, fullPath: `/home/a/.claude/${dir}/${s}.jsonl`, firstPrompt: prose(rng(i), 8), messageCount: [300, 250, 200][i],
      created: '2026-01-15T09:00:00.000Z', modified: '2026-01-15T10:00:00.000Z', gitBranch: 'main', projectPath: '/home/a/app', isSidechain: false,
    })),
  }, null, 2)}\n`);
  return { sessions: [s1, s2, s3], files };
}

// ── Tests ────────────────────────────────────────────────────────────────────────────────────

describe('engine over real folders (FsFolderStore + linkPair)', () => {
  it('copies a realistic Claude Code project folder: same names, same bytes, mtimes kept', async () => {
    const { a, b } = await twoNodes();
    const { files } = writeClaudeProject(a.root);
    await a.engine.scan('claude');
    await untilSameFolders(a, b);

    const ta = readTree(a.root);
    const tb = readTree(b.root);
    expect([...tb.keys()]).toEqual([...ta.keys()]);
    expect([...ta.keys()].sort()).toEqual([...files].sort());
    expect(sizes(tb)).toEqual(sizes(ta));
    for (const [name, e] of ta) {
      const o = tb.get(name)!;
      expect(o.bytes.equals(e.bytes), `${name} is byte-identical`).toBe(true);
      // FsFolderStore applies the sender's mtime (utimes after an append or a staged commit); the
      // round trip through seconds as a double may lose sub-microsecond digits.
      expect(Math.abs(o.mtimeMs - e.mtimeMs), `${name} mtime on B vs A`).toBeLessThan(0.001);
      // A peer's mode keeps its owner bits only (0644 → 0600).
      expect(o.mode, `${name} mode`).toBe(peerMode(e.mode));
    }
    expect(tb.get(files.find((f) => f.endsWith('toolu_1.txt'))!)!.bytes.length).toBeGreaterThan(300 * 1024);
    expect(a.log.concat(b.log)).toEqual([]);
  });

  it('streams appended lines, and holds a partial line back until its newline is written', async () => {
    const { a, b, pair } = await twoNodes();
    const name = 'projects/-home-a-app/0b9e3c1a-5d2f-4e8a-9c71-2f4d6b8a0e13.jsonl';
    const lines = sessionLines(11, '0b9e3c1a-5d2f-4e8a-9c71-2f4d6b8a0e13', 30);
    writeFile(a.root, name, lines.slice(0, 20).join(''));
    await a.engine.scan('claude', [name]);
    await untilContent(b, name, lines.slice(0, 20).join(''));

    // Appends, as Claude Code makes them: one line at a time.
    for (const l of lines.slice(20, 25)) {
      fs.appendFileSync(path.join(a.root, name), l);
      await a.engine.scan('claude', [name]);
    }
    const complete = lines.slice(0, 25).join('');
    await untilContent(b, name, complete);

    // Half a line: A's store holds it back, nothing crosses, B's file is unchanged.
    const next = lines[25]!;
    const half = next.slice(0, Math.floor(next.length / 2));
    fs.appendFileSync(path.join(a.root, name), half);
    await a.engine.scan('claude', [name]);
    await quiesce(pair, a, b);
    expect(fs.readFileSync(path.join(a.root, name), 'utf8')).toBe(complete + half);
    expect(fs.readFileSync(path.join(b.root, name), 'utf8')).toBe(complete);
    expect(b.store.stat(name)?.size).toBe(Buffer.byteLength(complete));

    // The rest of it, newline included: the whole line arrives.
    fs.appendFileSync(path.join(a.root, name), next.slice(half.length));
    await a.engine.scan('claude', [name]);
    await untilContent(b, name, complete + next);
    await quiesce(pair, a, b);
    expect(fs.readFileSync(path.join(b.root, name), 'utf8')).toBe(lines.slice(0, 26).join(''));
    expect([...readTree(b.root).keys()]).toEqual([name]);
  });

  it('tells the link when a burst is over: an appended line goes out with its index entry, then a flush', async () => {
    const name = 'projects/-home-a-app/0b9e3c1a-5d2f-4e8a-9c71-2f4d6b8a0e13.jsonl';
    const lines = sessionLines(12, '0b9e3c1a-5d2f-4e8a-9c71-2f4d6b8a0e13', 12);
    const { a, b, pair } = await twoNodesSharing(name, lines.slice(0, 10).join(''), [name]);

    const from = pair.trace.length;
    fs.appendFileSync(path.join(a.root, name), lines[10]!);
    await a.engine.scan('claude', [name]);
    await untilContent(b, name, lines.slice(0, 11).join(''));
    await quiesce(pair, a, b);
    const sent = pair.trace.slice(from).filter((e) => e.from === a.id);
    const kinds = sent.map((e) => (e.flush ? 'flush' : decodeMessage(e.frame!).t));
    // One burst: the new end announced, the line to the subscribed peer, then one flush.
    expect(kinds).toEqual(['index', 'logData', 'flush']);
    // Every frame either engine sent was followed by a flush (nothing left held back).
    for (const id of [a.id, b.id]) expect(pair.trace.filter((e) => e.from === id).at(-1)?.flush).toBe(true);
  });

  it('after a restart, B catches up with 1,000 new lines without re-reading its unchanged files', async () => {
    const homeA = tempHome('a');
    const homeB = tempHome('b');
    const a = await openNode(homeA, A_ID, 'laptop');
    let b = await openNode(homeB, B_ID, 'desktop');
    let pair = await link(a, b);
    const sid = '5c7d9e1f-2a3b-4c5d-8e6f-7a8b9c0d1e2f';
    const name = `projects/-home-a-app/${sid}.jsonl`;
    const all = sessionLines(21, sid, 1300);
    writeFile(a.root, name, all.slice(0, 300).join(''));
    writeFile(a.root, 'projects/-home-a-app/sessions-index.json', '{"version":1,"entries":[]}\n');
    await a.engine.scan('claude');
    await untilSameFolders(a, b);

    // B goes down; A's session grows by 1,000 lines meanwhile.
    await pair.close();
    await b.close();
    const added = all.slice(300).join('');
    for (const l of all.slice(300)) fs.appendFileSync(path.join(a.root, name), l);
    await a.engine.scan('claude');

    // B comes back on the same folder and state dir.
    b = await openNode(homeB, B_ID, 'desktop');
    expect(b.store.stats).toMatchObject({ bytesRead: 0, tailBytesRead: 0, bytesHashed: 0 });
    pair = await link(a, b);
    await untilSameFolders(a, b);
    await quiesce(pair, a, b);
    expect(fs.readFileSync(path.join(b.root, name), 'utf8')).toBe(all.join(''));
    // Nothing of B's files was read back: not at open (unchanged files are judged by stat), not
    // when receiving (appended data is folded as it is written). B hashed exactly the bytes it
    // received, once; tail fingerprints are at most 4 KiB per append.
    expect(b.store.stats.bytesRead).toBe(0);
    expect(b.store.stats.bytesHashed).toBe(Buffer.byteLength(added));
    expect(b.store.stats.tailBytesRead).toBeLessThanOrEqual(4096 * pair.carried.frames);
    expect(b.log).toEqual([]);
  });

  it('a crash that loses the replication state of received files (journaled once per burst) converges: no conflict copy, nothing lost', async () => {
    const homeA = tempHome('a');
    const homeB = tempHome('b');
    const a = await openNode(homeA, A_ID, 'laptop');
    let b = await openNode(homeB, B_ID, 'desktop');
    const metaFile = path.join(homeB, 'state', 'meta.jsonl');
    const metaBefore = fs.readFileSync(metaFile);
    for (let i = 0; i < 20; i++) {
      const sid = `5c7d9e1f-2a3b-4c5d-8e6f-7a8b9c0d1e${String(i).padStart(2, '0')}`;
      writeFile(a.root, `projects/-home-a-p${i % 3}/${sid}.jsonl`, sessionLines(i, sid, 20 + i).join(''));
    }
    await a.engine.scan('claude');
    let pair = await link(a, b);
    await untilSameFolders(a, b);
    const tree = readTree(a.root);
    // B "crashes" with its files written and recorded by its store, but none of its replication
    // state journaled (what a crash inside a burst of received files can leave, at most).
    await pair.close();
    await b.close();
    fs.writeFileSync(metaFile, metaBefore);
    b = await openNode(homeB, B_ID, 'desktop');
    pair = await link(a, b);
    await untilSameFolders(a, b);
    await quiesce(pair, a, b);
    expect([...readTree(b.root).keys()]).toEqual([...tree.keys()]);
    expect(sameTree(readTree(a.root), tree)).toBe(true);
    expect(sameTree(readTree(b.root), tree)).toBe(true);
  });

  it('serves a log as runs ending at its checkpoints, hashing nothing on the sending side', async () => {
    let hashed = 0;
    const counting: Hasher = {
      createSha256() {
        const h = nodeHasher.createSha256();
        const state = { update: (d: Uint8Array) => ((hashed += d.length), h.update(d), state), digest: () => h.digest() };
        return state;
      },
    };
    const a = await openNode(tempHome('a'), A_ID, 'laptop', counting);
    const b = await openNode(tempHome('b'), B_ID, 'desktop');
    const sid = '5c7d9e1f-2a3b-4c5d-8e6f-7a8b9c0d1eff';
    const name = `projects/-home-a-big/${sid}.jsonl`;
    const lines = sessionLines(7, sid, 6000);
    // A line longer than a frame, between ordinary ones.
    lines.splice(3000, 0, `{"big":"${'x'.repeat(1536 * 1024)}"}\n`);
    writeFile(a.root, name, lines.join(''));
    await a.engine.scan('claude');
    expect((await a.store.checkpoints(name)).length).toBeGreaterThan(2);
    const pair = await link(a, b);
    await untilSameFolders(a, b);
    await quiesce(pair, a, b);
    expect(fs.readFileSync(path.join(b.root, name), 'utf8')).toBe(lines.join(''));
    expect(b.store.stat(name)).toEqual({ ...a.store.stat(name)!, mode: peerMode(a.store.stat(name)!.mode) });
    expect(await b.store.checkpoints(name)).toEqual(await a.store.checkpoints(name));
    expect(hashed).toBe(0);
    expect(b.log).toEqual([]);
  });

  it('two devices that appended while apart both keep their continuation, one as a fork', async () => {
    const sid = '9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d';
    const name = `projects/-home-a-app/${sid}.jsonl`;
    const base = sessionLines(31, sid, 40).join('');
    const { a, b, pair } = await twoNodesSharing(name, base);
    await pair.close();

    // Apart: the laptop appends three lines, the desktop two different ones, a minute later.
    const onA = sessionLines(32, sid, 3).join('');
    const onB = sessionLines(33, sid, 2).join('');
    const t = Date.now() / 1000;
    fs.appendFileSync(path.join(a.root, name), onA);
    fs.utimesSync(path.join(a.root, name), t - 60, t - 60);
    fs.appendFileSync(path.join(b.root, name), onB);
    fs.utimesSync(path.join(b.root, name), t, t);
    await a.engine.scan('claude');
    await b.engine.scan('claude');

    // Together again: the newer last line (B's) keeps the name; A's continuation becomes a
    // session of its own, `<uuid derived from the id and its chain hash>.jsonl`, on both devices.
    await link(a, b);
    const fork = `projects/-home-a-app/${forkUuid(sid, Buffer.from(chainHash(base + onA), 'hex'))}.jsonl`;
    expect(fork).toMatch(/\/[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}\.jsonl$/);
    await until(() => fs.existsSync(path.join(b.root, fork)) && sameTree(readTree(a.root), readTree(b.root)), {
      what: 'both folders to hold the session and its fork',
      detail: () => ({ a: sizes(readTree(a.root)), b: sizes(readTree(b.root)), aLog: a.log, bLog: b.log }),
    });
    for (const node of [a, b]) {
      const tree = readTree(node.root);
      expect([...tree.keys()].sort(), node.id).toEqual([fork, name].sort());
      expect(tree.get(name)!.bytes.toString('utf8'), `${node.id}: ${name}`).toBe(base + onB);
      expect(tree.get(fork)!.bytes.toString('utf8'), `${node.id}: ${fork}`).toBe(base + onA);
    }
  });

  it('a log rewritten in place to a greater length reaches B as the new content', async () => {
    const sid = '3e4f5a6b-7c8d-4e9f-a0b1-c2d3e4f5a6b7';
    const name = `projects/-home-a-app/${sid}.jsonl`;
    const before = sessionLines(41, sid, 30).join('');
    const { a, b, pair } = await twoNodesSharing(name, before);

    // Rewritten through the same inode (no truncate, no rename), longer than before, with
    // different bytes from the first one on.
    const after = sessionLines(42, sid, 45).join('');
    expect(after.length).toBeGreaterThan(before.length);
    expect(after.slice(0, after.indexOf('\n'))).not.toBe(before.slice(0, before.indexOf('\n')));
    const p = path.join(a.root, name);
    rewriteInPlace(p, after);
    expect(fs.readFileSync(p, 'utf8')).toBe(after);
    await a.engine.scan('claude');

    await untilContent(b, name, after);
    await quiesce(pair, a, b);
    expect(fs.readFileSync(path.join(b.root, name), 'utf8')).toBe(after);
    expect([...readTree(b.root).keys()]).toEqual([name]);
  });

  // docs/PROTOCOL.md §8: "a file rewritten in place to a greater length is a new epoch, not an
  // append". The store compares only the 4 KiB before the known end; here a same-length edit of
  // the first line (as a secret scrubber masking a token in place would make) leaves every later
  // byte at its offset, and the log then grows. Done while apart, so that what A's store records
  // can be checked before any peer reacts.
  it('a log edited in place before its last 4 KiB, then grown, is a new epoch too', async () => {
    const sid = '7d6c5b4a-3f2e-4d1c-b0a9-8f7e6d5c4b3a';
    const name = `projects/-home-a-app/${sid}.jsonl`;
    const lines = sessionLines(51, sid, 30);
    const before = lines.join('');
    const { a, b, pair } = await twoNodesSharing(name, before);
    await pair.close();

    const first = lines[0]!;
    const edited = first.replace('"type":"user"', '"type":"USER"');
    expect(edited).not.toBe(first);
    expect(edited.length).toBe(first.length);
    expect(Buffer.byteLength(before) - Buffer.byteLength(first)).toBeGreaterThan(4096);
    const after = edited + lines.slice(1).join('') + sessionLines(52, sid, 5).join('');
    const p = path.join(a.root, name);
    rewriteInPlace(p, after);
    await a.engine.scan('claude');
    // The cheap scan cannot see this edit (same inode, grown, tail unchanged): A's record says
    // "append". The first peer that asks for lines past its old end gets `diverged`; A then
    // re-reads its copy whole, finds the edit, and announces it as a new epoch. No fork.

    const again = await link(a, b);
    await untilContent(b, name, after);
    await quiesce(again, a, b);
    for (const node of [a, b]) {
      expect(sizes(readTree(node.root)), `${node.id}: the session alone, no forks`).toEqual({ [name]: Buffer.byteLength(after) });
      expect(fs.readFileSync(path.join(node.root, name), 'utf8')).toBe(after);
    }
  });
});
