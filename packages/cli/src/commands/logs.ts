/**
 * `roam logs [-f] [-n <lines>] [--json]`: the daemon's log, read from its file (`roamd.log` in the
 * state directory), so it works whether roamd runs or not; where the file is goes to stderr. With
 * -f, new lines are printed as roamd appends them, until interrupted. With --json, each line is one
 * JSON object `{"time", "message"}` on a line of its own (JSON Lines, so -f streams too).
 */
import { closeSync, openSync, readSync, statSync } from 'node:fs';
import { ErrorCodes, RoamError } from '@roam/core/errors';
import type { Io } from '../io.js';
import { roamPaths } from '../machine/paths.js';

export interface LogsFlags {
  follow?: boolean;
  lines?: number;
  json?: boolean;
}

/** How many lines `roam logs` prints by default (the daemon kept as many in memory). */
const DEFAULT_LINES = 2000;
/** How often -f looks at the file. */
const FOLLOW_MS = 200;

function size(file: string): number | null {
  try {
    return statSync(file).size;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw new RoamError(ErrorCodes.INTERNAL, `cannot read ${file}: ${(err as Error).message}`);
  }
}

function readRange(file: string, from: number, to: number): Buffer {
  const buf = Buffer.alloc(to - from);
  const fd = openSync(file, 'r');
  try {
    let off = 0;
    while (off < buf.length) {
      const n = readSync(fd, buf, off, buf.length - off, from + off);
      if (n === 0) break;
      off += n;
    }
    return buf.subarray(0, off);
  } finally {
    closeSync(fd);
  }
}

/** The last `n` complete lines of the file's first `end` bytes (read from the end, not the whole file). */
function lastLines(file: string, end: number, n: number): string[] {
  let from = end;
  let chunk = Buffer.alloc(0);
  while (from > 0) {
    from = Math.max(0, from - 256 * 1024);
    chunk = Buffer.concat([readRange(file, from, from + (end - from) - chunk.length), chunk]);
    let count = 0;
    for (const b of chunk) if (b === 0x0a) count++;
    if (count > n) break;
  }
  const lines = chunk.toString('utf8').split('\n');
  lines.pop(); // after the last newline: a line still being written, or nothing
  if (from > 0) lines.shift(); // cut short at the chunk's start
  return n > 0 ? lines.slice(-n) : [];
}

/** `2026-12-08T00:01:02.345Z roamd … started` → {time, message}. */
export function logRecord(line: string): { time: string | null; message: string } {
  const m = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?Z) (.*)$/s.exec(line);
  return m ? { time: m[1]!, message: m[2]! } : { time: null, message: line };
}

export async function logs(opts: LogsFlags, io: Io, env: NodeJS.ProcessEnv = process.env): Promise<void> {
  const file = roamPaths(env).log;
  const print = (line: string) => io.out(opts.json ? JSON.stringify(logRecord(line)) : line);
  let end = size(file);
  if (end === null && !opts.follow) {
    io.err(`roam: no log yet: roamd writes ${file} once it starts`);
    return;
  }
  io.err(`roam: roamd's log: ${file}`);
  for (const l of end === null ? [] : lastLines(file, end, opts.lines ?? DEFAULT_LINES)) print(l);
  if (!opts.follow) return;
  let offset = end ?? 0;
  let partial = '';
  await new Promise<never>(() => {
    setInterval(() => {
      end = size(file);
      if (end === null) return;
      if (end < offset) offset = 0; // replaced or truncated: from its start
      if (end === offset) return;
      const text = partial + readRange(file, offset, end).toString('utf8');
      offset = end;
      const lines = text.split('\n');
      partial = lines.pop()!;
      for (const l of lines) print(l);
    }, FOLLOW_MS);
  });
}
