/**
 * Fast text search over JSONL files. A file is read in 1 MiB chunks and a byte-level pre-filter finds
 * candidate lines: for a needle that is ASCII once JSON-escaped, Buffer.indexOf on the raw bytes for
 * its rarest byte (both cases) and a byte compare around each hit; otherwise (or when that byte turns
 * out to be frequent in a chunk) a case-insensitive regular expression over the chunk seen as latin1,
 * matching the needle as JSON.stringify writes it in UTF-8. Only candidate lines are parsed, and the
 * caller decides whether the match is in text it searches. Files are scanned a few at a time.
 */
import { closeSync, openSync, readSync } from 'node:fs';
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

/** The bytes sampled to pick the rarest byte of a needle. */
const SAMPLE = 64 * 1024;

/**
 * The pre-filter of scanFile: where the first match at or after `from` starts. It finds exactly the
 * positions `prefilter(text)` matches in the latin1 view of the bytes (for an ASCII needle the `i`
 * flag folds only ASCII letters, and so does the byte compare here), without making that view when
 * it can: a needle that is ASCII once JSON-escaped is looked for with Buffer.indexOf of its rarest
 * byte (picked from a sample of the first chunk, both cases), each hit checked byte by byte. A chunk
 * in which that byte is frequent goes on with the regular expression from where the bytes left off.
 */
export class Needle {
  readonly re: RegExp;
  /** The JSON-escaped needle, ASCII letters in lower case; null when it is not ASCII. */
  private readonly bytes: Uint8Array | null;
  /** Per byte of `bytes`: whether it is a letter (compared case-insensitively). */
  private readonly letter: Uint8Array;
  /** The position in `bytes` looked for with indexOf (-1: not picked yet). */
  private pivot = -1;

  constructor(text: string) {
    this.re = prefilter(text);
    const escaped = JSON.stringify(text).slice(1, -1);
    // eslint-disable-next-line no-control-regex
    this.bytes = /^[\x00-\x7f]*$/.test(escaped) && escaped.length ? Buffer.from(escaped.toLowerCase(), 'latin1') : null;
    this.letter = new Uint8Array(this.bytes?.length ?? 0);
    if (this.bytes) for (let i = 0; i < this.bytes.length; i++) this.letter[i] = this.bytes[i]! >= 0x61 && this.bytes[i]! <= 0x7a ? 1 : 0;
  }

  /** Whether buf[0, end) holds a match. */
  test(buf: Buffer, end = buf.length): boolean {
    let found = false;
    this.each(buf, end, () => {
      found = true;
      return -1;
    });
    return found;
  }

  /**
   * Matches in buf[0, end): calls `onMatch(start)` for the first match at or after `from`, and again
   * from the position it returns (-1: stop), in order.
   */
  each(buf: Buffer, end: number, onMatch: (start: number) => number): void {
    let from = 0;
    const bytes = this.bytes;
    if (bytes !== null) {
      if (this.pivot < 0) this.pivot = this.rarest(buf, Math.min(end, SAMPLE));
      from = this.byBytes(buf, end, bytes, onMatch);
      if (from < 0) return;
      // The pivot byte is frequent here: pick again for the next chunks, finish this one with the regex.
      this.pivot = this.rarest(buf.subarray(from), Math.min(end - from, SAMPLE));
    }
    const text = buf.toString('latin1', 0, end);
    const re = this.re;
    re.lastIndex = from;
    let m: RegExpExecArray | null;
    while ((m = re.exec(text)) !== null) {
      const next = onMatch(m.index);
      if (next < 0) return;
      re.lastIndex = next;
    }
  }

  /** The bytes-only search; returns -1 when done, or where to go on with the regex (too many hits). */
  private byBytes(buf: Buffer, end: number, bytes: Uint8Array, onMatch: (start: number) => number): number {
    const n = bytes.length;
    const p = this.pivot;
    const lo = bytes[p]!;
    const up = this.letter[p] ? lo - 0x20 : lo;
    const view = buf.subarray(0, end);
    // Budget: past one candidate per 64 bytes, the regex over the latin1 view is cheaper.
    let budget = (end >> 6) + 64;
    let from = 0;
    let nextLo = -2; // next position of `lo` at or after the last search (-1: none; -2: not searched)
    let nextUp = lo === up ? -1 : -2;
    let at = p; // where the pivot byte is looked for from
    for (;;) {
      if (nextLo !== -1 && nextLo < at) nextLo = view.indexOf(lo, at);
      if (nextUp !== -1 && nextUp < at) nextUp = view.indexOf(up, at);
      const c = nextLo < 0 ? nextUp : nextUp < 0 ? nextLo : Math.min(nextLo, nextUp);
      if (c < 0) return -1;
      if (--budget < 0) return from;
      const s = c - p;
      if (s + n <= end && this.matchesAt(buf, s)) {
        const next = onMatch(s);
        if (next < 0) return -1;
        from = next;
        at = next + p;
      } else {
        at = c + 1;
      }
    }
  }

  private matchesAt(buf: Buffer, s: number): boolean {
    const bytes = this.bytes!;
    const letter = this.letter;
    for (let k = 0; k < bytes.length; k++) {
      const b = buf[s + k]!;
      if (b !== bytes[k] && !(letter[k] && (b | 0x20) === bytes[k])) return false;
    }
    return true;
  }

  /** The position in the needle whose byte (either case) is least frequent in buf[0, len). */
  private rarest(buf: Uint8Array, len: number): number {
    const bytes = this.bytes!;
    const counts = new Uint32Array(256);
    for (let i = 0; i < len; i++) counts[buf[i]!] = counts[buf[i]!]! + 1;
    let best = 0;
    let bestCount = Infinity;
    for (let k = 0; k < bytes.length; k++) {
      const c = counts[bytes[k]!]! + (this.letter[k] ? counts[bytes[k]! - 0x20]! : 0);
      if (c < bestCount) {
        best = k;
        bestCount = c;
      }
    }
    return best;
  }
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

/**
 * The lines of `file` the pre-filter `needle` matches and `check` accepts (check gets the parsed line and
 * returns a value, or null to reject it), in file order, at most `max`. Only complete lines, up to
 * `size` bytes (the size the file was listed with).
 *
 * The reads are synchronous: from the page cache (sessions are files written or synced lately) they
 * cost a third of the CPU of fs's callbacks, whose thread-pool hand-offs were most of a search's time
 * once the pre-filter stopped making strings (measured over 10,000 sessions, 0.8 GB).
 */
export async function scanFile<T>(file: string, size: number, needle: Needle, check: (o: Record<string, unknown>) => T | null, max = Infinity, scratch: ScanBuffer = scanBuffer()): Promise<LineMatch<T>[]> {
  const out: LineMatch<T>[] = [];
  const fd = openSync(file, 'r');
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
      const n = readSync(fd, buf, carry, Math.min(buf.length - carry, size - pos), pos);
      if (n === 0) break; // shorter than listed; an unfinished last line is not searched
      pos += n;
      const len = carry + n;
      const end = buf.lastIndexOf(NL, len - 1) + 1;
      if (end === 0) {
        carry = len;
        continue;
      }
      let counted = 0;
      let full = false;
      needle.each(buf, end, (at) => {
        const s = lineStart(buf, at);
        const e = lineEnd(buf, at, end);
        lines += countNewlines(buf, counted, s);
        counted = s;
        const o = parseLine(buf, s, e);
        const v = o ? check(o) : null;
        if (v !== null) {
          out.push({ line: lines + 1, value: v });
          if (out.length >= max) {
            full = true;
            return -1;
          }
        }
        return e + 1;
      });
      if (full) return out;
      lines += countNewlines(buf, counted, end);
      buf.copy(buf, 0, end, len);
      carry = len - end;
    }
  } finally {
    closeSync(fd);
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
