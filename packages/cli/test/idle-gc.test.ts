import { describe, expect, it } from 'vitest';
import { startIdleGc } from '../src/daemon/idle-gc.js';

describe('idle GC', () => {
  it('collects once the heap grew by a burst of garbage and the process went quiet, and not again while nothing grows', async () => {
    const gc = startIdleGc({ minGrowth: 4 * 1024 * 1024, everyMs: 50 });
    try {
      // A burst: garbage the heap keeps until something collects it.
      let keep: unknown[] | null = [];
      for (let i = 0; i < 200_000; i++) keep.push({ i, s: `item-${i}` });
      keep = null;
      const deadline = Date.now() + 20_000;
      while (gc.runs === 0) {
        if (Date.now() > deadline) throw new Error('no collection within 20 s');
        await new Promise((r) => setTimeout(r, 20));
      }
      const after = gc.runs;
      await new Promise((r) => setTimeout(r, 500)); // ten quiet intervals with nothing new to collect
      expect(gc.runs).toBe(after);
    } finally {
      gc.stop();
    }
  });
});
