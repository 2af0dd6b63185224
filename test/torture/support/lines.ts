/**
 * Real-shaped sessions and the writers' record of every line.
 *
 * A line is a Claude Code-like JSONL record: mostly 200 B – 5 KB, some 5 – 50 KB and a few
 * 50 – 500 KB (tool results), with multi-byte characters and escapes. Each carries its writer id,
 * the writer's sequence number, the time it was written and a checksum of its text, so any line
 * found anywhere can be checked on its own (torn, corrupt) and against the writer's record
 * (unknown, lost, duplicated, out of order).
 */
import { createHash } from 'node:crypto';
import { appendFileSync, mkdirSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { Rng } from './rng.js';

const h16 = (s: string | Uint8Array): string => createHash('sha256').update(s).digest('hex').slice(0, 16);

/** A pool of realistic text to cut line bodies from (code, prose, escapes, multi-byte). */
function textPool(rng: Rng, size: number): string {
  const words = [
    'const', 'function', 'return', 'await', 'import', 'export', 'the', 'file', 'test', 'error', 'session', 'roam',
    'café', 'naïve', '✓', '→', '中文', '日本語', '😀', 'résumé', '"quoted"', 'back\\slash', 'tab\there', 'line\nbreak',
    '{"json":true}', '<tag attr="x">', '$ npm test', 'src/index.ts:42:7', '// TODO', '0x1f', '=>', '===', '&&',
  ];
  let out = '';
  while (out.length < size) {
    out += rng.pick(words);
    out += rng.chance(0.1) ? '\n' : ' ';
  }
  return out.slice(0, size);
}

let pool: string | null = null;
function poolText(): string {
  pool ??= textPool(new Rng(7), 1 << 20);
  return pool;
}

/** Sizes as coding sessions have them: mostly small, some tool results of 5–50 KB and 50–500 KB. */
export function lineSize(rng: Rng, opts: { large?: number; medium?: number; min?: number } = {}): number {
  if (opts.min !== undefined) return Math.max(opts.min, lineSize(rng, { ...opts, min: undefined }));
  const r = rng.next();
  const large = opts.large ?? 0.01;
  const medium = opts.medium ?? 0.04;
  if (r < large) return rng.logUniform(50_000, 500_000);
  if (r < large + medium) return rng.logUniform(5_000, 50_000);
  return rng.logUniform(200, 5_000);
}

export interface LineId {
  readonly w: string;
  readonly seq: number;
}

/** One line (with its `\n`) of about `size` bytes. */
export function makeLine(rng: Rng, writer: string, seq: number, session: string, size: number, ts = Date.now()): string {
  const text = poolText();
  const head = JSON.stringify({ type: seq % 2 ? 'assistant' : 'user', uuid: `${writer}-${seq}`, sessionId: session, w: writer, seq, ts }).length + 80;
  const want = Math.max(1, size - head);
  let body = '';
  while (body.length < want) {
    const at = rng.int(0, text.length - 1);
    body += text.slice(at, at + Math.min(want - body.length, text.length - at));
  }
  const rec = {
    type: seq % 2 ? 'assistant' : 'user',
    uuid: `${writer}-${seq}`,
    sessionId: session,
    w: writer,
    seq,
    ts,
    sum: h16(body),
    message: { role: seq % 2 ? 'assistant' : 'user', content: [{ type: 'text', text: body }] },
  };
  return `${JSON.stringify(rec)}\n`;
}

/** Checks one line on its own: parses, checksum matches. Returns its id, or null if torn/corrupt. */
export function parseLine(line: string): (LineId & { ts: number }) | null {
  try {
    const rec = JSON.parse(line) as { w?: unknown; seq?: unknown; ts?: unknown; sum?: unknown; message?: { content?: Array<{ text?: unknown }> } };
    const text = rec.message?.content?.[0]?.text;
    if (typeof rec.w !== 'string' || typeof rec.seq !== 'number' || typeof rec.ts !== 'number' || typeof text !== 'string') return null;
    if (h16(text) !== rec.sum) return null;
    return { w: rec.w, seq: rec.seq, ts: rec.ts };
  } catch {
    return null;
  }
}

/** Every line every writer wrote: where, in which order, with which bytes (a hash). */
export class Ledger {
  /** `w:seq` → the session file (relative name) and the hash of the whole line. */
  readonly lines = new Map<string, { file: string; hash: string; bytes: number }>();
  /** Relative file name → its lines' keys in the order they were written. */
  readonly files = new Map<string, string[]>();
  /** Relative file name → the bytes its lines add up to. */
  readonly fileBytes = new Map<string, number>();
  bytes = 0;

  record(file: string, id: LineId, line: string): void {
    const k = `${id.w}:${id.seq}`;
    const bytes = Buffer.byteLength(line);
    this.lines.set(k, { file, hash: h16(line), bytes });
    let list = this.files.get(file);
    if (!list) this.files.set(file, (list = []));
    list.push(k);
    this.fileBytes.set(file, (this.fileBytes.get(file) ?? 0) + bytes);
    this.bytes += bytes;
  }

  get count(): number {
    return this.lines.size;
  }
}

export interface WriterOptions {
  /** Probability that a line is written in two parts a few ms apart (a tool flushing mid-line). */
  split?: number;
  large?: number;
  medium?: number;
  /** No line shorter than this. */
  min?: number;
}

const fileLocks = new Map<string, Promise<unknown>>();

/**
 * A tool writing sessions: appends whole lines with O_APPEND (sometimes in two writes, leaving a
 * partial line on disk for a moment) and records each once it is whole.
 */
export class Writer {
  seq = 0;
  constructor(
    readonly id: string,
    readonly ledger: Ledger,
    private readonly rng: Rng,
    private readonly opts: WriterOptions = {},
  ) {}

  /** Appends one line to `root/file`; resolves once it is whole on disk. Returns its size. */
  append(root: string, file: string, size?: number): Promise<number> {
    // Appends to one file never interleave (a split line stays whole), whoever writes them.
    const abs = join(root, file);
    const p = (fileLocks.get(abs) ?? Promise.resolve()).then(() => this.appendNow(root, file, size));
    const tail = p.catch(() => undefined);
    fileLocks.set(abs, tail);
    void tail.then(() => {
      if (fileLocks.get(abs) === tail) fileLocks.delete(abs);
    });
    return p;
  }

  private async appendNow(root: string, file: string, size?: number): Promise<number> {
    const seq = this.seq++;
    const line = makeLine(this.rng, this.id, seq, file, size ?? lineSize(this.rng, this.opts));
    const abs = join(root, file);
    mkdirSync(dirname(abs), { recursive: true });
    if (this.opts.split && this.rng.chance(this.opts.split)) {
      const buf = Buffer.from(line);
      const cut = this.rng.int(1, buf.length - 1);
      appendFileSync(abs, buf.subarray(0, cut));
      await new Promise((r) => setTimeout(r, this.rng.int(1, 20)));
      appendFileSync(abs, buf.subarray(cut));
    } else {
      appendFileSync(abs, line);
    }
    this.ledger.record(file, { w: this.id, seq }, line);
    return line.length;
  }
}

export interface Verdict {
  files: number;
  lines: number;
  bytes: number;
  /** A file that does not end in `\n` (a partial last line). */
  torn: number;
  /** A line that does not parse or whose checksum fails. */
  corrupt: number;
  /** A line no writer wrote (or not these bytes). */
  unknown: number;
  /** The same line twice in one file. */
  duplicated: number;
  /** A writer's lines out of its order within one file. */
  reordered: number;
  /** Lines the ledger has that are nowhere they should be. */
  lost: number;
  problems: string[];
}

const emptyVerdict = (): Verdict => ({ files: 0, lines: 0, bytes: 0, torn: 0, corrupt: 0, unknown: 0, duplicated: 0, reordered: 0, lost: 0, problems: [] });

/** Splits a file into lines, checking each; updates the verdict; returns the keys in file order. */
function readLines(abs: string, rel: string, ledger: Ledger, v: Verdict): string[] {
  const data = readFileSync(abs);
  v.files++;
  v.bytes += data.length;
  const text = data.toString('utf8');
  const parts = text.split('\n');
  const last = parts.pop();
  if (last !== '') {
    v.torn++;
    v.problems.push(`${rel}: ends in a partial line of ${Buffer.byteLength(last ?? '')} bytes`);
  }
  const keys: string[] = [];
  const lastSeq = new Map<string, number>();
  const seen = new Set<string>();
  for (const p of parts) {
    v.lines++;
    const id = parseLine(p);
    if (!id) {
      v.corrupt++;
      if (v.problems.length < 50) v.problems.push(`${rel}: corrupt line of ${Buffer.byteLength(p)} bytes: ${p.slice(0, 80)}`);
      continue;
    }
    const k = `${id.w}:${id.seq}`;
    const rec = ledger.lines.get(k);
    if (!rec || rec.hash !== h16(`${p}\n`)) {
      v.unknown++;
      if (v.problems.length < 50) v.problems.push(`${rel}: line ${k} not as its writer wrote it`);
      continue;
    }
    if (seen.has(k)) {
      v.duplicated++;
      if (v.problems.length < 50) v.problems.push(`${rel}: line ${k} twice`);
      continue;
    }
    seen.add(k);
    const prev = lastSeq.get(id.w);
    if (prev !== undefined && id.seq < prev) {
      v.reordered++;
      if (v.problems.length < 50) v.problems.push(`${rel}: line ${k} after ${id.w}:${prev}`);
    }
    lastSeq.set(id.w, id.seq);
    keys.push(k);
  }
  return keys;
}

/** Every regular file under `root`, relative, skipping roam's temp files. */
export function listFiles(root: string, rel = ''): string[] {
  const out: string[] = [];
  for (const d of readdirSync(join(root, rel), { withFileTypes: true })) {
    const r = rel ? `${rel}/${d.name}` : d.name;
    if (d.isDirectory()) out.push(...listFiles(root, r));
    else if (d.isFile() && !d.name.startsWith('.roam-tmp-')) out.push(r);
  }
  return out.sort();
}

/**
 * Single-writer sessions: every file the ledger names must hold exactly its lines, in order, on
 * this device; no other session files may exist.
 */
export function verifyExact(root: string, ledger: Ledger): Verdict {
  const v = emptyVerdict();
  const onDisk = new Set(listFiles(root).filter((f) => f.endsWith('.jsonl')));
  for (const [rel, expected] of ledger.files) {
    if (!onDisk.has(rel)) {
      v.lost += expected.length;
      v.problems.push(`${rel}: missing (${expected.length} lines)`);
      continue;
    }
    onDisk.delete(rel);
    const keys = readLines(join(root, rel), rel, ledger, v);
    const have = new Set(keys);
    const lost = expected.filter((k) => !have.has(k));
    v.lost += lost.length;
    if (lost.length) v.problems.push(`${rel}: ${lost.length} lines lost, first ${lost[0]}`);
    const wrongFile = keys.filter((k) => ledger.lines.get(k)?.file !== rel).length;
    if (wrongFile) {
      v.unknown += wrongFile;
      v.problems.push(`${rel}: ${wrongFile} lines of other sessions`);
    }
  }
  for (const rel of onDisk) {
    v.unknown++;
    v.problems.push(`${rel}: a session no writer wrote`);
  }
  return v;
}

/**
 * Sessions written concurrently on several devices (forks allowed): every file is whole lines,
 * each as its writer wrote it, no line twice in a file, each writer's lines in order; and every
 * line of the ledger is in some file of this device.
 */
export function verifyUnion(root: string, ledger: Ledger): Verdict & { forks: string[] } {
  const v = emptyVerdict();
  const found = new Set<string>();
  const files = listFiles(root).filter((f) => f.endsWith('.jsonl'));
  for (const rel of files) for (const k of readLines(join(root, rel), rel, ledger, v)) found.add(k);
  for (const k of ledger.lines.keys()) {
    if (!found.has(k)) {
      v.lost++;
      if (v.problems.length < 50) v.problems.push(`line ${k} (${ledger.lines.get(k)!.file}) is in no file`);
    }
  }
  return { ...v, forks: files.filter((f) => /\.fork-[0-9a-f]{12}\.jsonl$/.test(f)) };
}

/** Path, size and content hash of every session file: equal on devices that converged. */
export function treeDigest(root: string): string {
  return listFiles(root)
    .map((f) => {
      const abs = join(root, f);
      return `${f} ${statSync(abs).size} ${h16(readFileSync(abs))}`;
    })
    .join('\n');
}

/** Whether every ledger file has its full size under `root` (cheap: stat only). */
export function sizesMatch(root: string, ledger: Ledger, files: Iterable<string> = ledger.files.keys()): boolean {
  for (const f of files) {
    let size = -1;
    try {
      size = statSync(join(root, f)).size;
    } catch {
      return false;
    }
    if (size !== ledger.fileBytes.get(f)) return false;
  }
  return true;
}

export interface WritingJob {
  writer: Writer;
  /** The folder to write into (a function: it may change, e.g. between two sides). */
  root: () => string;
  /** The session files (relative) it appends to, one picked at random per line. */
  files: () => readonly string[];
  /** Target rate; the writer sleeps when ahead of it. */
  bytesPerSec: number;
}

export interface Writing {
  readonly lines: () => number;
  readonly bytes: () => number;
  /** Stops every loop after its current line; resolves once all lines are whole on disk. */
  stop(): Promise<void>;
}

/** Runs writer loops until stopped, each paced to its rate. */
export function startWriting(jobs: readonly WritingJob[], rng: Rng): Writing {
  let stopped = false;
  let lines = 0;
  let bytes = 0;
  const loops = jobs.map(async (job, i) => {
    const r = rng.fork(i);
    const t0 = Date.now();
    let mine = 0;
    while (!stopped) {
      const files = job.files();
      if (files.length) {
        const n = await job.writer.append(job.root(), r.pick(files));
        mine += n;
        bytes += n;
        lines++;
      }
      const ahead = (mine / job.bytesPerSec) * 1000 - (Date.now() - t0);
      await new Promise((res) => (ahead > 1 ? setTimeout(res, Math.min(ahead, 500)) : setImmediate(res)));
    }
  });
  return {
    lines: () => lines,
    bytes: () => bytes,
    stop: async () => {
      stopped = true;
      await Promise.all(loops);
    },
  };
}

/** The line keys (`writer:seq`) of one file, in file order (lines that do not parse are skipped). */
export function fileKeys(root: string, rel: string): string[] {
  return readFileSync(join(root, rel), 'utf8')
    .split('\n')
    .map(parseLine)
    .filter((id): id is LineId & { ts: number } => id !== null)
    .map((id) => `${id.w}:${id.seq}`);
}
