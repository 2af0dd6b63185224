/**
 * Byte-level helpers for JSONL session files: bounded reads, complete lines only, and token search
 * on raw bytes. A `"key":"value"` token with unescaped quotes can only occur in JSON.stringify'd
 * output as a real key and value (inside a string value the quotes are escaped), so looking for
 * `"type":"user"` in the bytes finds structure, never text someone typed.
 */
import { closeSync, openSync, readSync } from 'node:fs';

/** `fs.readSync`'s shape; injectable so that tests can count the bytes a reader reads. */
export type ReadFn = (fd: number, buf: Uint8Array, offset: number, length: number, position: number) => number;

export const fsRead: ReadFn = (fd, buf, offset, length, position) => readSync(fd, buf, offset, length, position);

export const NL = 0x0a;

/** Reads up to `length` bytes at `position` into `buf[offset…]`; returns how many (fewer only at EOF). */
export function readFully(read: ReadFn, fd: number, buf: Uint8Array, offset: number, length: number, position: number): number {
  let done = 0;
  while (done < length) {
    const n = read(fd, buf, offset + done, length - done, position + done);
    if (n <= 0) break;
    done += n;
  }
  return done;
}

export function withFile<T>(file: string, f: (fd: number) => T): T {
  const fd = openSync(file, 'r');
  try {
    return f(fd);
  } finally {
    closeSync(fd);
  }
}

/** A JSON object from one line, or null when the line is not one (malformed lines are skipped). */
export function parseLine(buf: Buffer, start: number, end: number): Record<string, unknown> | null {
  if (end <= start) return null;
  try {
    const v: unknown = JSON.parse(buf.toString('utf8', start, end));
    return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

/** Start of the line holding byte `pos`. */
export function lineStart(buf: Buffer, pos: number, floor = 0): number {
  if (pos <= floor) return floor;
  const i = buf.lastIndexOf(NL, pos - 1);
  return i < floor ? floor : i + 1;
}

/** End (index of the '\n') of the line holding byte `pos`, or `limit` when no '\n' comes before it. */
export function lineEnd(buf: Buffer, pos: number, limit: number): number {
  const i = buf.indexOf(NL, pos);
  return i < 0 || i >= limit ? limit : i;
}

/** How many '\n' in buf[start, end). */
export function countNewlines(buf: Buffer, start: number, end: number): number {
  let n = 0;
  let i = start;
  while (i < end) {
    const j = buf.indexOf(NL, i);
    if (j < 0 || j >= end) break;
    n++;
    i = j + 1;
  }
  return n;
}

/** Start offsets (ascending) of the lines in buf[start, end) that contain `token`, each once. */
export function linesWithToken(buf: Buffer, token: Buffer, start: number, end: number, into: Set<number> = new Set()): Set<number> {
  let i = start;
  while (i < end) {
    const j = buf.indexOf(token, i);
    if (j < 0 || j + token.length > end) break;
    const s = lineStart(buf, j, start);
    into.add(s);
    i = lineEnd(buf, j, end) + 1;
  }
  return into;
}

/** Whether buf[start, end) contains `token`. */
export function hasToken(buf: Buffer, token: Buffer, start: number, end: number): boolean {
  // Within the range only: an absent token must not cost a scan of the rest of the buffer.
  return end - start >= token.length && buf.subarray(start, end).indexOf(token) >= 0;
}

export const tokens = {
  user: Buffer.from('"type":"user"'),
  assistant: Buffer.from('"type":"assistant"'),
  progress: Buffer.from('"type":"progress"'),
  sidechain: Buffer.from('"isSidechain":true'),
  customTitle: Buffer.from('"type":"custom-title"'),
  aiTitle: Buffer.from('"type":"ai-title"'),
  summary: Buffer.from('"type":"summary"'),
} as const;

/** End offsets (the '\n', ascending) of the complete lines in buf[start, end) that contain `token`, each once. */
export function lineEndsWithToken(buf: Buffer, token: Buffer, start: number, end: number, into: Set<number> = new Set()): Set<number> {
  let i = start;
  while (i < end) {
    const j = buf.indexOf(token, i);
    if (j < 0 || j + token.length > end) break;
    const e = lineEnd(buf, j, end);
    if (e >= end) break; // no '\n': not a complete line
    into.add(e);
    i = e + 1;
  }
  return into;
}

/**
 * User and assistant lines of the main conversation among the complete lines of buf[start, end):
 * a line counts when it holds a top-level `"type":"user"` or `"type":"assistant"` and is not a side
 * chain. A progress line can embed a sub-agent's message (`data.message.type`): such lines, and
 * lines with `"isSidechain":true` somewhere, are parsed to read their real type; no other line is
 * (a line that does not end with '}' is taken as malformed and not counted).
 * Also returns the ends of the lines holding `"type":"user"`, ascending (for the prompt search).
 */
export function countMessages(buf: Buffer, start: number, end: number): { count: number; userEnds: number[] } {
  const users = lineEndsWithToken(buf, tokens.user, start, end);
  const userEnds = [...users];
  const all = lineEndsWithToken(buf, tokens.assistant, start, end, users);
  const special = lineEndsWithToken(buf, tokens.sidechain, start, end);
  lineEndsWithToken(buf, tokens.progress, start, end, special);
  let count = 0;
  for (const e of all) {
    // A line cut short (a crash mid-write) does not end its object: skip it, as a parse would.
    const last = buf[e - 1] === 0x0d ? buf[e - 2] : buf[e - 1];
    if (last !== 0x7d) continue;
    if (special.has(e)) {
      const o = parseLine(buf, lineStart(buf, e, start), e);
      if (!o || o.isSidechain === true || (o.type !== 'user' && o.type !== 'assistant')) continue;
    }
    count++;
  }
  return { count, userEnds };
}

/** One line of a JSONL file as an object; null for a blank line, a line cut short, or JSON that is not an object. */
export function jsonObject(line: string): Record<string, unknown> | null {
  if (!line.trim()) return null;
  try {
    const o = JSON.parse(line) as unknown;
    return o && typeof o === 'object' && !Array.isArray(o) ? (o as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}
