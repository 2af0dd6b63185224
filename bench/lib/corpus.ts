/**
 * Seedable generator of Claude Code-shaped session folders (`~/.claude/projects`):
 *
 *   <project key>/<session uuid>.jsonl                       the transcript (a line log)
 *   <project key>/<session uuid>/subagents/agent-<id>.jsonl  sub-agent transcripts (a line log each)
 *   <project key>/<session uuid>/subagents/agent-<id>.meta.json
 *   <project key>/<session uuid>/tool-results/toolu_<id>.txt large tool outputs (whole files)
 *
 * Line shapes follow Claude Code 2.1.x (see /work/shared/reference/session-formats.md): one JSON
 * object per line with `type` user / assistant / progress / system / file-history-snapshot /
 * attachment / ai-title …, the common fields (`uuid`, `parentUuid`, `sessionId`, `timestamp`, `cwd`,
 * `version`, `gitBranch`, …) and a `message` for user and assistant lines.
 *
 * Line sizes are drawn to match the real public sessions in /work/shared/fixtures/claude (438 lines of
 * a 1.0.98 session: p10 659 B, median 959 B, p90 2.8 KB, p99 10.7 KB, max 54 KB): 96 % of lines
 * log-normal around 950 B (σ 0.85), 3 % tool-result lines log-normal around 6.5 KB (σ 1.0), capped at
 * 256 KB. File sizes within a corpus are log-normal too (a few large sessions, many small ones), scaled
 * so that the corpus has exactly the requested number of files and about the requested bytes.
 *
 * Everything is a pure function of the seed: the same seed gives byte-identical corpora.
 */
import { createHash } from 'node:crypto';
import { closeSync, mkdirSync, openSync, writeSync } from 'node:fs';
import path from 'node:path';

// ------------------------------------------------------------------ seeded randomness

/** sfc32 seeded from a string through SHA-256: fast, good enough, reproducible. */
export class Rng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;
  constructor(seed: string | number) {
    const h = createHash('sha256').update(String(seed)).digest();
    this.a = h.readUInt32LE(0);
    this.b = h.readUInt32LE(4);
    this.c = h.readUInt32LE(8);
    this.d = h.readUInt32LE(12);
    for (let i = 0; i < 12; i++) this.next();
  }
  /** Uniform in [0, 1). */
  next(): number {
    this.a >>>= 0; this.b >>>= 0; this.c >>>= 0; this.d >>>= 0;
    let t = (this.a + this.b) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.d = (this.d + 1) | 0;
    t = (t + this.d) | 0;
    this.c = (this.c + t) | 0;
    return (t >>> 0) / 4294967296;
  }
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.next() * (hi - lo + 1));
  }
  pick<T>(xs: readonly T[]): T {
    return xs[Math.floor(this.next() * xs.length)]!;
  }
  normal(): number {
    const u = 1 - this.next();
    const v = this.next();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  }
  logNormal(medianValue: number, sigma: number): number {
    return medianValue * Math.exp(sigma * this.normal());
  }
  hex(n: number): string {
    let s = '';
    for (let i = 0; i < n; i++) s += '0123456789abcdef'[Math.floor(this.next() * 16)];
    return s;
  }
  uuid(): string {
    const h = this.hex(32);
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-${'89ab'[parseInt(h[16]!, 16) & 3]}${h.slice(17, 20)}-${h.slice(20, 32)}`;
  }
}

// ------------------------------------------------------------------ text

const WORDS = (
  'the a to of and in is it that for on with as this be are by not from or at function return const let ' +
  'file test error import export type string number async await promise value result config path ' +
  'session line log sync peer device folder index hash chunk stream buffer write read append update ' +
  'check should would could make sure fix bug build run npm tsc vitest node module package json ' +
  'I will now look at the code Let me read src components server client request response handler ' +
  'interface class private public static new if else for while try catch throw undefined null true false'
).split(' ');

/** A pool of word text to slice from: building every line word by word would be slow at GB scale. */
function textPool(rng: Rng, size: number): string {
  const parts: string[] = [];
  let n = 0;
  while (n < size) {
    const w = rng.pick(WORDS);
    const sep = rng.next() < 0.08 ? '.\n' : rng.next() < 0.05 ? ', ' : ' ';
    parts.push(w, sep);
    n += w.length + sep.length;
  }
  return parts.join('');
}

// ------------------------------------------------------------------ lines

export interface LineContext {
  sessionId: string;
  cwd: string;
  parent: string | null;
  /** Milliseconds since the epoch; advances with each line. */
  time: number;
  sidechain: boolean;
  agentId?: string;
}

const LINE_MEDIAN = 950;
const LINE_SIGMA = 0.85;
const BIG_LINE_FRACTION = 0.03;
const BIG_LINE_MEDIAN = 6_500;
const BIG_LINE_SIGMA = 1.0;
const LINE_MAX = 256 * 1024;
const LINE_MIN = 180;

export class LineMaker {
  private readonly pool: string;
  constructor(private readonly rng: Rng) {
    this.pool = textPool(rng, 1 << 20);
  }

  /** A target size for the next line, from the distribution above. */
  size(): number {
    const big = this.rng.next() < BIG_LINE_FRACTION;
    const v = big ? this.rng.logNormal(BIG_LINE_MEDIAN, BIG_LINE_SIGMA) : this.rng.logNormal(LINE_MEDIAN, LINE_SIGMA);
    return Math.max(LINE_MIN, Math.min(LINE_MAX, Math.round(v)));
  }

  /** `n` characters of plain text (ASCII: as many bytes). */
  text(n: number): string {
    if (n <= 0) return '';
    const start = Math.floor(this.rng.next() * (this.pool.length - Math.min(n, this.pool.length - 1) - 1));
    let s = this.pool.slice(start, start + n);
    while (s.length < n) s += this.pool.slice(0, n - s.length);
    return s;
  }

  /** One line (with its trailing \n) of about `target` bytes, in one of Claude Code 2.1.x's shapes. */
  line(ctx: LineContext, target = this.size()): string {
    const rng = this.rng;
    const uuid = rng.uuid();
    ctx.time += rng.int(200, 30_000);
    const common = {
      parentUuid: ctx.parent,
      isSidechain: ctx.sidechain,
      userType: 'external',
      cwd: ctx.cwd,
      sessionId: ctx.sessionId,
      version: '2.1.29',
      gitBranch: 'main',
      ...(ctx.agentId ? { agentId: ctx.agentId } : {}),
    };
    const timestamp = new Date(ctx.time).toISOString();
    const r = rng.next();
    // Fill a text field so that the serialized line lands near `target` bytes.
    const build = (fill: (t: string) => Record<string, unknown>): string => {
      const probe = JSON.stringify(fill(''));
      const room = Math.max(0, target - probe.length - 1);
      return JSON.stringify(fill(this.text(room)));
    };
    let json: string;
    if (target > 4000 || r < 0.33) {
      // user line carrying a tool result (the large ones)
      const toolId = `toolu_01${rng.hex(22)}`;
      json = build((t) => ({
        ...common, type: 'user',
        message: { role: 'user', content: [{ tool_use_id: toolId, type: 'tool_result', content: t, is_error: false }] },
        uuid, timestamp, toolUseResult: { stdout: '', stderr: '', interrupted: false }, sourceToolAssistantUUID: ctx.parent,
      }));
    } else if (r < 0.80) {
      json = build((t) => ({
        ...common, message: {
          id: `msg_01${rng.hex(22)}`, type: 'message', role: 'assistant', model: 'claude-opus-4-5-20251101',
          content: rng.next() < 0.5 ? [{ type: 'text', text: t }] : [{ type: 'tool_use', id: `toolu_01${rng.hex(22)}`, name: rng.pick(['Read', 'Edit', 'Bash', 'Grep', 'Write']), input: { command: t } }],
          stop_reason: null, stop_sequence: null,
          usage: { input_tokens: rng.int(1, 9), cache_creation_input_tokens: rng.int(0, 5000), cache_read_input_tokens: rng.int(0, 90000), output_tokens: rng.int(1, 900), service_tier: 'standard' },
        },
        requestId: `req_011${rng.hex(21)}`, type: 'assistant', uuid, timestamp,
      }));
    } else if (r < 0.90) {
      json = build((t) => ({ ...common, type: 'progress', data: { type: 'hook_progress', hookEvent: 'PostToolUse', hookName: 'PostToolUse:Edit', command: t }, toolUseID: `toolu_01${rng.hex(22)}`, parentToolUseID: `toolu_01${rng.hex(22)}`, uuid, timestamp }));
    } else if (r < 0.95) {
      json = build((t) => ({ ...common, type: 'user', message: { role: 'user', content: t }, uuid, timestamp, permissionMode: 'default', promptId: rng.uuid() }));
    } else if (r < 0.98) {
      json = build((t) => ({ ...common, type: 'system', subtype: 'stop_hook_summary', content: t, level: 'info', uuid, timestamp }));
    } else {
      json = build((t) => ({ type: 'file-history-snapshot', messageId: uuid, snapshot: { messageId: uuid, trackedFileBackups: { [`src/${t.slice(0, 40).replace(/\W/g, '_')}.ts`]: { backupFileName: null, version: 1 } }, timestamp }, isSnapshotUpdate: false }));
    }
    ctx.parent = uuid;
    return `${json}\n`;
  }
}

// ------------------------------------------------------------------ corpus

export interface CorpusSpec {
  seed: string;
  /** Exact number of files (or, with `sessions`, about this many). */
  files: number;
  /** Exact number of sessions instead (the file count follows from the shape). */
  sessions?: number;
  /** Approximate total bytes (logs end on a whole line). */
  bytes: number;
}

export interface ManifestFile {
  path: string;
  size: number;
  sha256: string;
}

export interface Manifest {
  spec: CorpusSpec;
  files: ManifestFile[];
  totalBytes: number;
  sessions: number;
  projects: number;
  /** Line-size figures over every line written (bytes). */
  lines: { count: number; p50: number; p90: number; p99: number; max: number };
}

interface PlannedFile {
  rel: string;
  kind: 'log' | 'meta' | 'text';
  weight: number;
  ctx?: LineContext;
}

/** Writes a corpus under `dir` (created) and returns its manifest (sizes and SHA-256 of every file). */
export function generateCorpus(dir: string, spec: CorpusSpec): Manifest {
  const rng = new Rng(`corpus:${spec.seed}`);
  const maker = new LineMaker(new Rng(`lines:${spec.seed}`));
  const planned: PlannedFile[] = [];
  const projectCount = Math.max(1, Math.round((spec.sessions !== undefined ? spec.sessions * 4.7 : spec.files) / 60));
  const projects = Array.from({ length: projectCount }, (_, i) => {
    const cwd = `/home/dev/code/${rng.pick(WORDS)}-${rng.pick(WORDS)}-${i}`;
    return { cwd, key: cwd.replace(/[^A-Za-z0-9]/g, '-') };
  });
  let sessions = 0;
  let t = Date.UTC(2025, 10, 1);
  const more = () => (spec.sessions !== undefined ? sessions < spec.sessions : planned.length < spec.files);
  const room = () => spec.sessions !== undefined || planned.length < spec.files;
  while (more()) {
    const p = projects[Math.floor(rng.next() * projects.length)]!;
    const sid = rng.uuid();
    sessions++;
    // Sessions are heavy-tailed: most are small, a few are very large.
    const main = rng.logNormal(1, 1.3);
    planned.push({ rel: `${p.key}/${sid}.jsonl`, kind: 'log', weight: main, ctx: { sessionId: sid, cwd: p.cwd, parent: null, time: (t += 3_600_000), sidechain: false } });
    if (rng.next() < 0.4) {
      const agents = rng.int(1, 6);
      for (let i = 0; i < agents && room(); i++) {
        const agentId = rng.hex(8);
        planned.push({ rel: `${p.key}/${sid}/subagents/agent-${agentId}.jsonl`, kind: 'log', weight: main * rng.logNormal(0.15, 0.8), ctx: { sessionId: sid, cwd: p.cwd, parent: null, time: t, sidechain: true, agentId } });
        if (room()) planned.push({ rel: `${p.key}/${sid}/subagents/agent-${agentId}.meta.json`, kind: 'meta', weight: 0 });
      }
    }
    if (rng.next() < 0.3) {
      const results = rng.int(1, 5);
      for (let i = 0; i < results && room(); i++) {
        planned.push({ rel: `${p.key}/${sid}/tool-results/toolu_01${rng.hex(22)}.txt`, kind: 'text', weight: main * rng.logNormal(0.08, 0.9) });
      }
    }
  }
  if (spec.sessions === undefined) planned.length = spec.files;
  const META_BYTES = 220;
  const metaCount = planned.filter((f) => f.kind === 'meta').length;
  const budget = Math.max(0, spec.bytes - metaCount * META_BYTES);
  const totalWeight = planned.reduce((a, f) => a + f.weight, 0) || 1;
  // No file above 1/20 of the corpus (or 1 MiB in small ones): one giant file would dominate.
  const cap = Math.max(1 << 20, spec.bytes / 20);

  const files: ManifestFile[] = [];
  const lineSizes: number[] = [];
  let totalBytes = 0;
  const created = new Set<string>();
  for (const f of planned) {
    const abs = path.join(dir, f.rel);
    const parent = path.dirname(abs);
    if (!created.has(parent)) {
      mkdirSync(parent, { recursive: true });
      created.add(parent);
    }
    const target = Math.min(cap, Math.max(f.kind === 'meta' ? 0 : 400, Math.round((f.weight / totalWeight) * budget)));
    const hash = createHash('sha256');
    const fd = openSync(abs, 'w');
    let size = 0;
    const out = (s: string) => {
      const b = Buffer.from(s, 'utf8');
      writeSync(fd, b);
      hash.update(b);
      size += b.length;
    };
    try {
      if (f.kind === 'log') {
        const parts: string[] = [];
        let pending = 0;
        while (size + pending < target) {
          const l = maker.line(f.ctx!);
          lineSizes.push(Buffer.byteLength(l));
          parts.push(l);
          pending += l.length;
          if (pending > 1 << 20) {
            out(parts.join(''));
            parts.length = 0;
            pending = 0;
          }
        }
        if (parts.length) out(parts.join(''));
      } else if (f.kind === 'meta') {
        out(`${JSON.stringify({ agentType: rng.pick(['general-purpose', 'Explore', 'Plan']), description: `${rng.pick(WORDS)} ${rng.pick(WORDS)} ${rng.pick(WORDS)}`, createdAt: new Date(t).toISOString(), model: 'claude-sonnet-4-5' })}\n`);
      } else {
        // A tool's output as plain text, in pieces.
        while (size < target) out(maker.text(Math.min(1 << 20, target - size)));
      }
    } finally {
      closeSync(fd);
    }
    totalBytes += size;
    files.push({ path: f.rel, size, sha256: hash.digest('hex') });
  }
  lineSizes.sort((a, b) => a - b);
  const q = (p: number) => lineSizes[Math.min(lineSizes.length - 1, Math.floor(p * lineSizes.length))] ?? 0;
  return {
    spec, files, totalBytes, sessions, projects: projectCount,
    lines: { count: lineSizes.length, p50: q(0.5), p90: q(0.9), p99: q(0.99), max: lineSizes[lineSizes.length - 1] ?? 0 },
  };
}

/** One session log of about `bytes` (W3's 100 MB log), plus its manifest entry. */
export function generateLog(file: string, bytes: number, seed: string): ManifestFile {
  const maker = new LineMaker(new Rng(`biglog:${seed}`));
  const ctx: LineContext = { sessionId: new Rng(`sid:${seed}`).uuid(), cwd: '/home/dev/code/big-project', parent: null, time: Date.UTC(2025, 10, 1), sidechain: false };
  mkdirSync(path.dirname(file), { recursive: true });
  const hash = createHash('sha256');
  const fd = openSync(file, 'w');
  let size = 0;
  try {
    while (size < bytes) {
      const parts: string[] = [];
      let n = 0;
      while (n < 1 << 20 && size + n < bytes) {
        const l = maker.line(ctx);
        parts.push(l);
        n += Buffer.byteLength(l);
      }
      const b = Buffer.from(parts.join(''), 'utf8');
      writeSync(fd, b);
      hash.update(b);
      size += b.length;
    }
  } finally {
    closeSync(fd);
  }
  return { path: path.basename(file), size, sha256: hash.digest('hex') };
}

/**
 * Lines to append in the append benchmarks: the same seeded sequence for every tool, in the shape of
 * the session they are appended to.
 */
export function appendLines(seed: string, count: number, sessionId: string, fixedSize?: number): string[] {
  const maker = new LineMaker(new Rng(`append:${seed}`));
  const ctx: LineContext = { sessionId, cwd: '/home/dev/code/live-project', parent: null, time: Date.UTC(2025, 11, 1), sidechain: false };
  return Array.from({ length: count }, () => maker.line(ctx, fixedSize));
}

/**
 * The "10,000 sessions" corpus for `roam list` / `roam search`: exactly `count` sessions in the same
 * shape as the other corpora (sub-agents, tool results), about `bytes` in all, with a search token
 * planted in every `needleEvery`-th transcript.
 */
export function generateSessions(dir: string, count: number, bytes: number, seed: string, needle = 'zebracorn', needleEvery = 100): Manifest & { needle: string; needleSessions: number } {
  const m = generateCorpus(dir, { seed: `sessions:${seed}`, files: 0, sessions: count, bytes });
  const rng = new Rng(`needle:${seed}`);
  let i = 0;
  let planted = 0;
  const files = m.files.map((f) => {
    if (!/^[^/]+\/[^/]+\.jsonl$/.test(f.path) || i++ % needleEvery !== 0) return f;
    const line = `${JSON.stringify({ type: 'user', message: { role: 'user', content: `please look at the ${needle} module ${rng.hex(6)}` }, uuid: rng.uuid(), timestamp: new Date(Date.UTC(2025, 11, 2)).toISOString() })}\n`;
    const fd = openSync(path.join(dir, f.path), 'a');
    writeSync(fd, line);
    closeSync(fd);
    planted++;
    return { path: f.path, size: f.size + Buffer.byteLength(line), sha256: '' };
  });
  return { ...m, files, totalBytes: files.reduce((a, f) => a + f.size, 0), needle, needleSessions: planted };
}
