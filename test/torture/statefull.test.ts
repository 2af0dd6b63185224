/**
 * Torture: the state directory fills up. The receiving daemon's state directory (ROAM_HOME/state:
 * its index journals, its log) is on a small tmpfs this test mounts; once the first sessions have
 * arrived, a filler takes every byte left, and the sender goes on writing. The receiver must say
 * clearly that its state directory is full (on its output: its log file is on the full disk),
 * keep running, and never record what it did not write. Then it is SIGKILLed while still full,
 * the filler is deleted, and it restarts: no ROAM_STORE_CORRUPT, and it catches up with nothing
 * lost, torn or duplicated.
 *
 * Needs root (mount -t tmpfs); skipped with a notice without it (fails under CI=true).
 */
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { until } from '../../packages/core/test/support/poll.js';
import { cleanupAll } from './support/cleanup.js';
import { TortureDaemon } from './support/daemon.js';
import { freeBytes, mountTmpfs } from './support/disk.js';
import { Ledger, Writer, sizesMatch, verifyExact } from './support/lines.js';
import { SEED, STRICT, sized } from './support/profile.js';
import { report, saveLogs } from './support/report.js';
import { Rng } from './support/rng.js';

afterEach(cleanupAll);

const MiB = 1024 * 1024;
const TMPFS = 8 * MiB;

/** Fills the file system holding `dir` to its last byte (a tmpfs: writes until ENOSPC). */
function fillUp(file: string): number {
  let size = Math.max(0, freeBytes(join(file, '..')) - 4096);
  writeFileSync(file, Buffer.alloc(size, 0x66));
  for (const chunk of [4096, 512, 64, 1]) {
    for (;;) {
      try {
        writeFileSync(file, Buffer.alloc(chunk, 0x66), { flag: 'a' });
        size += chunk;
      } catch {
        break;
      }
    }
  }
  return size;
}

describe('torture: state directory full', () => {
  it('a receiver whose state directory fills up says so, keeps running, restarts without ROAM_STORE_CORRUPT once space is freed, and loses nothing', { timeout: sized(180_000, 600_000) }, async ({ skip }) => {
    const a = await TortureDaemon.create({ name: 'sender' });
    const b = await TortureDaemon.create({ name: 'receiver', peers: [a.address] });
    const state = join(b.roamHome, 'state');
    const mounted = mountTmpfs(state, TMPFS);
    if (!mounted.ok) {
      if (STRICT) throw new Error(`the state-directory-full test needs to mount a tmpfs (root): ${mounted.reason}`);
      console.warn(`\nstate-directory-full torture test SKIPPED: ${mounted.reason}\n`);
      return skip(mounted.reason);
    }
    await a.start();
    await b.start();

    const rng = new Rng(SEED ^ 0x57a7e);
    const ledger = new Ledger();
    const w = new Writer('wa', ledger, rng.fork(1), { large: 0.02 });
    const sessions = Array.from({ length: 5 }, (_, i) => `-home-me-app/st${i}.jsonl`);
    const filler = join(state, 'filler.bin');
    let failed = true;
    try {
      // The first sessions arrive while there is room.
      for (let i = 0; i < 40; i++) await w.append(a.folder, rng.pick(sessions));
      await until(() => sizesMatch(b.folder, ledger), { timeoutMs: 60_000, everyMs: 200, what: 'the first lines to reach the receiver' });

      // The state directory is full: the sender goes on writing (about 2 MB).
      const filled = fillUp(filler);
      const heldBefore = ledger.count;
      let written = 0;
      while (written < sized(2, 8) * MiB) {
        written += await w.append(a.folder, rng.pick(sessions));
        if (rng.chance(0.2)) await new Promise((r) => setTimeout(r, 5));
      }
      // A clear error on the daemon's output (the log file is on the full disk), naming the state directory.
      const clear = /state directory .*(full|no space)|no space left on device.*state directory/i;
      await until(() => clear.test(b.output), { timeoutMs: 60_000, everyMs: 200, what: 'the receiver to say its state directory is full', detail: () => b.output.slice(-3000) });
      expect(b.running).toBe(true);
      const errorLine = b.output.split('\n').find((l) => clear.test(l)) ?? null;

      // SIGKILLed while full; space freed; restarted: no ROAM_STORE_CORRUPT, and it catches up.
      await b.kill('SIGKILL');
      rmSync(filler);
      const restartAt = Date.now();
      await b.start();
      await until(() => sizesMatch(b.folder, ledger), {
        timeoutMs: sized(60_000, 300_000),
        everyMs: 250,
        what: 'the receiver to catch up after space was freed',
        detail: () => ({ out: b.output.slice(-3000), exists: sessions.map((f) => existsSync(join(b.folder, f))) }),
      });
      const catchUpMs = Date.now() - restartAt;
      const v = verifyExact(b.folder, ledger);
      const corrupt = /ROAM_STORE_CORRUPT|uncaught|unhandled/i.exec(b.history)?.[0] ?? null;
      report('statefull', {
        tmpfsMB: TMPFS / MiB,
        fillerMB: +(filled / MiB).toFixed(1),
        linesBeforeFull: heldBefore,
        writtenWhileFullMB: +(written / MiB).toFixed(1),
        linesWritten: ledger.count,
        errorLine: errorLine?.slice(0, 300) ?? null,
        catchUpAfterRestartMs: catchUpMs,
        linesChecked: v.lines,
        torn: v.torn,
        corrupt: v.corrupt,
        duplicated: v.duplicated,
        lost: v.lost,
        storeCorruptOrCrashInOutput: corrupt,
      });
      expect(corrupt).toBeNull();
      expect(v.problems).toEqual([]);
      expect(v.lines).toBe(ledger.count);
      failed = false;
    } finally {
      if (failed) {
        rmSync(filler, { force: true });
        console.error(`[torture] statefull failed: daemon logs in ${saveLogs('statefull', { sender: a.history, receiver: b.history })}`);
      }
    }
  });
});
