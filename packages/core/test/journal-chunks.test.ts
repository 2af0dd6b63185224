/**
 * The state journal read and compacted in chunks: lines that span the reader's 1 MiB chunks (and
 * one larger than a chunk) come back whole and in order, a torn last line after them is dropped,
 * and a compaction that turns out not worth it is abandoned with the journal intact.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ErrorCodes } from '../src/errors.js';
import { Journal } from '../src/node/index.js';
import { cleanupAfterEach, tempDir } from './support/temp.js';

const cleanup = cleanupAfterEach();

describe('Journal read and written in chunks', () => {
  it('reads lines across chunk boundaries and a line larger than a chunk, and drops a torn tail', async () => {
    const file = path.join(tempDir(cleanup, 'roam-journal-'), 'j.jsonl');
    const expected: unknown[] = [];
    const lines: string[] = [];
    // ~3.5 MiB of lines of uneven sizes, so that chunk ends fall inside lines, plus one 2.5 MiB line.
    for (let i = 0; i < 3000; i++) {
      const rec = { i, pad: 'x'.repeat((i * 7919) % 2300) };
      expected.push(rec);
      lines.push(JSON.stringify([rec]));
    }
    const big = { big: 'é'.repeat(1_300_000) };
    expected.splice(1500, 0, big);
    lines.splice(1500, 0, JSON.stringify([big]));
    const whole = lines.join('\n') + '\n';
    fs.writeFileSync(file, whole + '[{"torn":');
    const seen: unknown[] = [];
    const { journal, records } = await Journal.open(file, undefined, (r) => seen.push(r));
    expect(records).toEqual([]);
    expect(seen.length).toBe(expected.length);
    expect(seen).toEqual(expected);
    expect(fs.statSync(file).size).toBe(Buffer.byteLength(whole));
    await journal.append([{ after: true }]);
    await journal.close();
    const again = await Journal.open(file);
    expect(again.records.at(-1)).toEqual({ after: true });
    expect(again.records.length).toBe(expected.length + 1);
    await again.journal.close();
  });

  it('names the byte offset of an unreadable line', async () => {
    const file = path.join(tempDir(cleanup, 'roam-journal-'), 'j.jsonl');
    const first = JSON.stringify([{ a: 'y'.repeat(2_000_000) }]) + '\n';
    fs.writeFileSync(file, first + '[{"b":1}]\nnot json\n');
    await expect(Journal.open(file)).rejects.toMatchObject({ code: ErrorCodes.STORE_CORRUPT, message: expect.stringContaining(`at byte ${Buffer.byteLength(first) + 10}`) });
  });

  it('compacts a large live set in chunks, and abandons a rewrite that would not halve the journal', async () => {
    const file = path.join(tempDir(cleanup, 'roam-journal-'), 'j.jsonl');
    const { journal } = await Journal.open(file);
    const live = Array.from({ length: 5000 }, (_, i) => ({ i, pad: 'q'.repeat(200) }));
    for (let i = 0; i < live.length; i += 500) await journal.append(live.slice(i, i + 500));
    // The journal holds exactly the live records: a rewrite would not halve it.
    const before = fs.readFileSync(file);
    expect(await journal.compact(live)).toBe(false);
    expect(fs.readFileSync(file).equals(before)).toBe(true);
    expect(fs.existsSync(file + '.tmp')).toBe(false);
    // Every record overwritten twice: now a rewrite of the last values (over 1 MiB, several chunks) is.
    const next = live.map((r) => ({ ...r, v: 2 }));
    for (let k = 0; k < 2; k++) for (let i = 0; i < next.length; i += 500) await journal.append(next.slice(i, i + 500));
    expect(await journal.compact(next)).toBe(true);
    await journal.append([{ tail: 1 }]);
    await journal.close();
    const again = await Journal.open(file);
    expect(again.records).toEqual([...next, { tail: 1 }]);
    await again.journal.close();
  });
});
