/**
 * Fast text search over JSONL files. A file is read in 1 MiB chunks and a byte-level pre-filter (a
 * case-insensitive regular expression over the chunk seen as latin1, matching the needle as
 * JSON.stringify writes it in UTF-8) finds candidate lines; only those lines are parsed, and the
 * caller decides whether the match is in text it searches. Files are scanned a few at a time.
 */
import { close, open, read } from 'node:fs';
import { NL, countNewlines, lineEnd, lineStart, parseLine } from './lines.js';

const CHUNK = 1024 * 1024;

/**
 * A pre-filter for `needle`: a case-insensitive match of its JSON-escaped UTF-8 bytes, in a string
 * decoded as latin1 (one char per byte). Non-ASCII characters match their upper and lower case
 * forms too. It may match more than the needle (the caller verifies), never less.
 */
export function prefilter(needle: string): RegExp {
  let source = '';
  for (const ch of needle) {
    // ASCII: the `i` flag folds case. Other characters: each of their case forms, in UTF-8.
    const forms = ch.charCodeAt(0) < 0x80 ? new Set([ch]) : new Set([ch, ch.toLowerCase(), ch.toUpperCase()]);
    const escaped = [...forms].map((c) => latin1Escaped(JSON.stringify(c).slice(1, -1)));
    source += escaped.length === 1 ? escaped[0]! : `(?:${escaped.join('|')})`;
  }
  return new RegExp(source, 'gi');
}

function latin1Escaped(s: string): string {
  return Buffer.from(s, 'utf8')
    .toString('latin1')
    .replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&');
}

export interface LineMatch<T> {
  /** 1-based line number. */
  readonly line: number;
  readonly value: T;
}

/** A buffer a scanner reuses from file to file (it grows for lines longer than it). */
export interface ScanBuffer {
  buf: Buffer;
}

export function scanBuffer(): ScanBuffer {
  return { buf: Buffer.allocUnsafe(CHUNK) };
}

const openP = (file: string) => new Promise<number>((res, rej) => open(file, 'r', (err, fd) => (err ? rej(err) : res(fd))));
const readP = (fd: number, buf: Buffer, off: number, len: number, pos: number) =>
  new Promise<number>((res, rej) => read(fd, buf, off, len, pos, (err, n) => (err ? rej(err) : res(n))));
const closeP = (fd: number) => new Promise<void>((res) => close(fd, () => res()));

/**
 * The lines of `file` the pre-filter `re` matches and `check` accepts (check gets the parsed line and
 * returns a value, or null to reject it), in file order, at most `max`. Only complete lines, up to
 * `size` bytes (the size the file was listed with).
 */
export async function scanFile<T>(file: string, size: number, re: RegExp, check: (o: Record<string, unknown>) => T | null, max = Infinity, scratch: ScanBuffer = scanBuffer()): Promise<LineMatch<T>[]> {
  const out: LineMatch<T>[] = [];
  const fd = await openP(file);
  try {
    let carry = 0; // bytes of an unfinished line kept at the start of the buffer
    let pos = 0;
    let lines = 0; // complete lines before buf[0]
    while (pos < size) {
      if (carry === scratch.buf.length) {
        const bigger = Buffer.allocUnsafe(scratch.buf.length * 2); // a line longer than the buffer
        scratch.buf.copy(bigger, 0, 0, carry);
        scratch.buf = bigger;
      }
      const buf = scratch.buf;
      const n = await readP(fd, buf, carry, Math.min(buf.length - carry, size - pos), pos);
      if (n === 0) break; // shorter than listed; an unfinished last line is not searched
      pos += n;
      const len = carry + n;
      const end = buf.lastIndexOf(NL, len - 1) + 1;
      if (end === 0) {
        carry = len;
        continue;
      }
      const text = buf.toString('latin1', 0, end);
      re.lastIndex = 0;
      let counted = 0;
      let m: RegExpExecArray | null;
      while ((m = re.exec(text)) !== null) {
        const s = lineStart(buf, m.index);
        const e = lineEnd(buf, m.index, end);
        lines += countNewlines(buf, counted, s);
        counted = s;
        const o = parseLine(buf, s, e);
        const v = o ? check(o) : null;
        if (v !== null) {
          out.push({ line: lines + 1, value: v });
          if (out.length >= max) return out;
        }
        re.lastIndex = e + 1;
      }
      lines += countNewlines(buf, counted, end);
      buf.copy(buf, 0, end, len);
      carry = len - end;
    }
  } finally {
    await closeP(fd);
  }
  return out;
}

/** About `width` characters of `text` around the first occurrence of `needleLower`, whitespace collapsed. */
export function snippet(text: string, needleLower: string, width = 120): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  const i = Math.max(0, flat.toLowerCase().indexOf(needleLower));
  const before = Math.max(0, Math.floor((width - needleLower.length) / 3));
  let start = Math.max(0, i - before);
  const end = Math.min(flat.length, start + width);
  start = Math.max(0, Math.min(start, end - width));
  return `${start > 0 ? '…' : ''}${flat.slice(start, end)}${end < flat.length ? '…' : ''}`;
}

/**
 * Runs `f` over `items` with at most `n` at a time, in order of `items`; stops starting new ones once
 * `enough()` says so. Results are in the order of `items` (undefined for those never started).
 */
export async function pool<T, R>(items: readonly T[], n: number, f: (item: T, index: number) => Promise<R>, enough: () => boolean = () => false): Promise<(R | undefined)[]> {
  const results: (R | undefined)[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length && !enough()) {
      const i = next++;
      results[i] = await f(items[i]!, i);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(n, items.length)) }, worker));
  return results;
}
