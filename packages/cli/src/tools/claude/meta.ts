/**
 * What `roam list` shows of one Claude Code transcript, read without loading a large file whole.
 *
 * A file up to `exactLimit` (8 MiB) is read once: messages are counted exactly over every line,
 * title lines are found anywhere in it, and the first prompt is looked for past the head when the
 * head has none. A larger file is read only in two windows, its first and last 64 KiB (what Claude
 * Code itself reads for its picker): titles, cwd, branch and last activity come from those lines,
 * and `messages` is the count in both windows scaled by the file's size (`messagesExact: false`).
 * Only complete lines are parsed; malformed lines are skipped.
 */
import { basename } from 'node:path';
import {
  NL, countMessages, fsRead, hasToken, lineEnd, lineStart, linesWithToken, parseLine, readFully, tokens, withFile, type ReadFn,
} from '../../sessions/lines.js';
import { oneLine } from '../../sessions/paths.js';
import type { ReadMeta } from '../common/base.js';

/** What `roam list` shows of a transcript: a SessionInfo's own fields (its project key is its directory's name). */
export type ClaudeMeta = Omit<ReadMeta, 'projectKey'>;

export interface MetaReadOptions {
  /** Reads go through this (tests count bytes with it). */
  readonly read?: ReadFn;
  /** Files up to this size are read whole and counted exactly (default 8 MiB). */
  readonly exactLimit?: number;
  /** The head and tail windows of larger files (default 64 KiB each). */
  readonly window?: number;
}

const UUID_STEM = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export const EXACT_LIMIT = 8 * 1024 * 1024;
export const WINDOW = 64 * 1024;
/** The most the tail window grows to when no complete line fits in it. */
export const TAIL_MAX = 4 * 1024 * 1024;
const TITLE_MAX = 200;

let scratch = Buffer.allocUnsafe(0);
function buffer(size: number): Buffer {
  if (scratch.length < size) scratch = Buffer.allocUnsafe(Math.max(size, Math.min(2 * scratch.length, EXACT_LIMIT)));
  return scratch;
}

/** The metadata of one transcript, or null when the file holds no session line at all. */
export function readClaudeMeta(file: string, size: number, opts: MetaReadOptions = {}): ClaudeMeta | null {
  const read = opts.read ?? fsRead;
  const exactLimit = opts.exactLimit ?? EXACT_LIMIT;
  const window = opts.window ?? WINDOW;
  return withFile(file, (fd) => {
    if (size <= exactLimit || size <= 2 * window) {
      const n = readFully(read, fd, buffer(size), 0, size, 0);
      const buf = scratch.subarray(0, n);
      const end = lastLineEnd(buf, 0, n); // complete lines only
      const counted = countMessages(buf, 0, end);
      const acc = new Accumulator(buf, window);
      acc.head(0, end, counted.userEnds);
      acc.titles([[0, end]]);
      acc.tail(0, end);
      acc.leafIn = (uuid) => buf.subarray(0, end).includes(`"uuid":"${uuid}"`);
      return acc.result(basename(file, '.jsonl'), counted.count, true);
    }
    // The tail window grows (×4, up to TAIL_MAX) until it holds a complete line: a session's last
    // lines can be tool results far longer than the window.
    let h = 0;
    let t = 0;
    let buf = scratch;
    let headEnd = 0;
    let tailStart = 0;
    let tailEnd = 0;
    for (let w = window; ; w *= 4) {
      const tw = Math.min(w, size - window);
      buffer(window + tw);
      h = readFully(read, fd, scratch, 0, window, 0);
      t = readFully(read, fd, scratch, h, tw, size - tw);
      buf = scratch.subarray(0, h + t);
      headEnd = lastLineEnd(buf, 0, h);
      // The tail window starts inside a line: its first (cut) line is skipped.
      const cut = buf.indexOf(NL, h);
      tailStart = cut < 0 ? h + t : cut + 1;
      tailEnd = Math.max(tailStart, lastLineEnd(buf, h, h + t));
      if (tailEnd > tailStart || tw >= size - window || w >= TAIL_MAX) break;
    }
    const head = countMessages(buf, 0, headEnd);
    const tail = countMessages(buf, tailStart, tailEnd);
    const acc = new Accumulator(buf, window);
    acc.head(0, headEnd, head.userEnds);
    acc.titles([[0, headEnd], [tailStart, tailEnd]]);
    acc.tail(tailStart, tailEnd);
    acc.leafIn = (uuid) => buf.subarray(0, headEnd).includes(`"uuid":"${uuid}"`) || buf.subarray(tailStart, tailEnd).includes(`"uuid":"${uuid}"`);
    const sampled = headEnd + (tailEnd - tailStart);
    const counted = head.count + tail.count;
    return acc.result(basename(file, '.jsonl'), sampled > 0 ? Math.round((counted * size) / sampled) : 0, false);
  });
}

/** The end of the last complete line in buf[from, to) (just past its '\n'), or `from` when there is none. */
function lastLineEnd(buf: Buffer, from: number, to: number): number {
  if (to <= from) return from;
  const i = buf.lastIndexOf(NL, to - 1);
  return i < from ? from : i + 1;
}

const TITLE_TOKEN = Buffer.from('-title"'); // "type":"custom-title" and "type":"ai-title"
const TOOL_RESULT = Buffer.from('"type":"tool_result"');
const TEXT_BLOCK = Buffer.from('"type":"text"');

/**
 * Reads what the metadata needs from as few lines as possible: forward from the start until the
 * first prompt, backward from the end until the last timestamp, cwd and branch, and the title
 * lines (found by their bytes). Every line is parsed at most once.
 */
class Accumulator {
  private session = false;
  private headIds: string[] = [];
  private tailId: string | null = null;
  private cwd: string | null | undefined = undefined;
  private branch: string | null | undefined = undefined;
  private last: string | undefined = undefined;
  private customTitle: string | null = null;
  private aiTitle: string | null = null;
  private summaries = new Map<number, { summary: string; leaf: string | null }>();
  firstPrompt: string | null = null;
  leafIn: (uuid: string) => boolean = () => false;
  private readonly parsed = new Map<number, Record<string, unknown> | null>();

  constructor(
    private readonly buf: Buffer,
    private readonly window: number,
  ) {}

  private at(s: number, end: number): Record<string, unknown> | null {
    let o = this.parsed.get(s);
    if (o === undefined) {
      o = parseLine(this.buf, s, lineEnd(this.buf, s, end));
      this.parsed.set(s, o);
      if (o) {
        if ((typeof o.sessionId === 'string' && o.sessionId) || o.type === 'user' || o.type === 'assistant' || o.type === 'summary') this.session = true;
        if (o.type === 'summary' && typeof o.summary === 'string' && o.summary.trim()) {
          this.summaries.set(s, { summary: o.summary, leaf: typeof o.leafUuid === 'string' ? o.leafUuid : null });
        }
      }
    }
    return o;
  }

  /**
   * From `from` on: the session id (the first line that has one, within a window) and the first
   * prompt (among the user lines ending at `userEnds`; those that only carry tool results are not parsed).
   */
  head(from: number, end: number, userEnds: readonly number[]): void {
    for (let s = from; s < end && s - from < this.window; s = lineEnd(this.buf, s, end) + 1) {
      const o = this.at(s, end);
      if (o && typeof o.sessionId === 'string' && o.sessionId) {
        this.headIds.push(o.sessionId);
        break;
      }
    }
    for (const e of userEnds) {
      const s = lineStart(this.buf, e, from);
      if (hasToken(this.buf, TOOL_RESULT, s, e) && !hasToken(this.buf, TEXT_BLOCK, s, e)) continue;
      this.prompt(this.at(s, end));
      if (this.firstPrompt !== null) return;
    }
  }

  /** The title lines in these regions, in file order (the last one of each kind wins). */
  titles(regions: [number, number][]): void {
    for (const [from, to] of regions) {
      for (const s of linesWithToken(this.buf, TITLE_TOKEN, from, to)) {
        const o = this.at(s, to);
        // Claude Code: the last title line wins; an empty one clears the title.
        if (o?.type === 'custom-title') this.customTitle = typeof o.customTitle === 'string' && o.customTitle.trim() ? o.customTitle : null;
        else if (o?.type === 'ai-title') this.aiTitle = typeof o.aiTitle === 'string' && o.aiTitle.trim() ? o.aiTitle : null;
      }
      // Summary lines (Claude Code 1.x) are written at the top, or appended: look in both windows.
      const near = linesWithToken(this.buf, tokens.summary, from, Math.min(to, from + this.window));
      for (const s of linesWithToken(this.buf, tokens.summary, Math.max(from, to - this.window), to, near)) this.at(s, to);
    }
  }

  /** Backward from `end` (at most a window): the last timestamp, cwd, branch and session id. */
  tail(from: number, end: number): void {
    const floor = Math.max(from, end - this.window);
    for (let e = end; e > floor; ) {
      const s = lineStart(this.buf, e - 1, from);
      const o = this.at(s, end);
      if (o) {
        if (this.tailId === null && typeof o.sessionId === 'string' && o.sessionId) this.tailId = o.sessionId;
        if (this.last === undefined && typeof o.timestamp === 'string' && o.timestamp) this.last = o.timestamp;
        if (this.cwd === undefined && typeof o.cwd === 'string') this.cwd = o.cwd || null;
        if (this.branch === undefined && typeof o.gitBranch === 'string') this.branch = o.gitBranch || null;
        if (this.tailId !== null && this.last !== undefined && this.cwd !== undefined && this.branch !== undefined) return;
      }
      e = s;
    }
  }

  prompt(o: Record<string, unknown> | null): void {
    if (this.firstPrompt !== null || !o || o.type !== 'user' || o.isSidechain === true || o.isMeta === true) return;
    const m = o.message as { content?: unknown } | undefined;
    const p = promptText(m?.content);
    if (p) this.firstPrompt = oneLine(p, TITLE_MAX);
  }

  result(stem: string, messages: number, messagesExact: boolean): ClaudeMeta | null {
    if (!this.session) return null;
    // A 1.x summary line names the leaf it summarises; one that points into another session is not this one's.
    const summaries = [...this.summaries.entries()].sort((a, b) => a[0] - b[0]).map(([, v]) => v);
    const summary = summaries.reverse().find((s) => s.leaf === null || this.leafIn(s.leaf))?.summary ?? null;
    const title = oneLine(this.customTitle ?? this.aiTitle ?? summary ?? this.firstPrompt, TITLE_MAX);
    const ids = [...this.headIds, ...(this.tailId ? [this.tailId] : [])];
    // Claude Code resumes a session by its file name (measured: a copy under another UUID resumes
    // by that UUID, and the lines it appends carry it), so a UUID stem is the id, whatever the
    // lines say: roam's forks of a diverged session start with the original's id.
    const id = ids.includes(stem) || UUID_STEM.test(stem) ? stem : (this.tailId ?? this.headIds[0] ?? stem);
    return {
      id, cwd: this.cwd ?? null, title, firstPrompt: this.firstPrompt, lastTimestamp: this.last ?? null,
      messages, messagesExact, gitBranch: this.branch ?? null,
    };
  }
}

/** The text of a user message's content as a prompt: null for tool results, command output, interruptions. */
export function promptText(content: unknown): string | null {
  let text: string;
  if (typeof content === 'string') text = content;
  else if (Array.isArray(content)) {
    text = content
      .filter((b): b is { type: 'text'; text: string } => !!b && typeof b === 'object' && (b as { type?: unknown }).type === 'text' && typeof (b as { text?: unknown }).text === 'string')
      .map((b) => b.text)
      .join('\n');
  } else return null;
  text = text.trim();
  if (!text) return null;
  const name = /<command-name>\s*([^<]*?)\s*<\/command-name>/.exec(text);
  if (name) {
    const args = /<command-args>([\s\S]*?)<\/command-args>/.exec(text);
    const n = name[1]!.startsWith('/') ? name[1]! : `/${name[1]!}`;
    return `${n} ${args?.[1]?.trim() ?? ''}`.trim();
  }
  if (/^<(local-command-(stdout|stderr|caveat)|command-message|bash-(input|stdout|stderr))>/.test(text)) return null;
  if (text.startsWith('[Request interrupted')) return null;
  return text;
}
