/** roam ui's kept sessions list (ui/rows.ts): answered from memory, read again when stale, dropped by invalidate. */
import { describe, expect, it } from 'vitest';
import { RowsCache, parsed } from '../src/ui/rows.js';
import { until } from '../../../test/harness/poll.js';

describe('RowsCache', () => {
  it('reads once for concurrent first asks, answers stale rows at once and reads again behind them, and reads afresh after invalidate', async () => {
    let now = 0;
    let reads = 0;
    let release: (() => void) | null = null;
    const cache = new RowsCache<number>(async () => {
      reads++;
      if (reads === 2) await new Promise<void>((r) => (release = r));
      return reads;
    }, { maxAgeMs: 1000, now: () => now });
    expect(await Promise.all([cache.get(undefined), cache.get(undefined)])).toEqual([1, 1]);
    expect(reads).toBe(1);
    now = 500;
    expect(await cache.get(undefined)).toBe(1);
    expect(reads).toBe(1);
    // Stale: the kept answer now, one read behind it (not one per ask).
    now = 1500;
    expect(await cache.get(undefined)).toBe(1);
    expect(await cache.get(undefined)).toBe(1);
    expect(reads).toBe(2);
    release!();
    await until(async () => (await cache.get(undefined)) === 2, { timeoutMs: 5000, what: 'the background read to be kept' });
    // Another filter is its own list.
    expect(await cache.get('codex')).toBe(3);
    cache.invalidate();
    expect(await cache.get(undefined)).toBe(4);
  });

  it("with roamd's stamp: rows kept while it stands still, read again when it moves or when too old", async () => {
    let now = 0;
    let reads = 0;
    let stamp = 'a';
    const cache = new RowsCache<number>(async () => ++reads, { maxAgeMs: 1000, maxStaleMs: 10_000, stamp: async () => stamp, now: () => now });
    expect(await cache.get(undefined)).toBe(1);
    now = 2000;
    expect(await cache.get(undefined)).toBe(1);
    now = 4000;
    expect(await cache.get(undefined)).toBe(1);
    await new Promise((r) => setTimeout(r, 20));
    expect(reads).toBe(1);
    stamp = 'b';
    now = 6000;
    expect(await cache.get(undefined)).toBe(1);
    await until(async () => (await cache.get(undefined)) === 2, { timeoutMs: 5000, what: 'a read once the stamp moved' });
    // Unchanged stamp, but older than maxStaleMs: read anyway.
    now = 17_000;
    expect(await cache.get(undefined)).toBe(2);
    await until(async () => (await cache.get(undefined)) === 3, { timeoutMs: 5000, what: 'a read once the rows are too old' });
  });

  it('parses a row from its bytes once', () => {
    const json = Buffer.from('xx{"id": "s1", "tool": "claude"}yy');
    const row = { lastActivity: '2026-01-01T00:00:00.000Z', mtimeMs: 0, json, start: 2, end: json.length - 2 };
    const s = parsed(row);
    expect(s).toMatchObject({ id: 's1', tool: 'claude' });
    expect(parsed(row)).toBe(s);
  });
});
