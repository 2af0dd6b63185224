/**
 * Torture: crashes. Two real roamd daemons on 127.0.0.1 replicate real-shaped sessions both ways
 * while a writer on each side keeps appending (some lines in two writes, some of 50–500 KB). At
 * random points the sending and the receiving daemon are SIGKILLed, alternately, and restarted
 * after a random downtime, while the writers go on. Afterwards both must converge, and every line
 * of every file is checked against its writer's record: 0 torn, lost, duplicated or foreign lines.
 * After each kill the victim's replicas are looked at before it restarts: a kill in the middle of
 * an append would leave a partial batch on disk, which the restart must cut back (the end state
 * shows it did: no torn or corrupt line anywhere). Half the kills are made inside the append path
 * itself: the test arms roamd's fault hook (ROAM_TEST_KILL_IN_APPEND, test-only), and the next
 * append writes about half its batch, syncs it and SIGKILLs the daemon, so kills that left a
 * partial batch on disk are counted (> 0), and the restart must cut each back (torn lines: 0).
 *
 * Quick (npm test): 10 kills. Full (npm run torture): 100.
 */
import { closeSync, existsSync, openSync, readSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { until } from '../../packages/core/test/support/poll.js';
import { cleanupAll, tempDir } from './support/cleanup.js';
import { TortureDaemon, freePort } from './support/daemon.js';
import { Ledger, Writer, sizesMatch, startWriting, verifyExact } from './support/lines.js';
import { SEED, sized } from './support/profile.js';
import { report, saveLogs } from './support/report.js';
import { Rng } from './support/rng.js';

afterEach(cleanupAll);

const KILLS = sized(10, 100);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('torture: crashes', () => {
  it(`SIGKILLs the sending and the receiving roamd at ${KILLS} random points during transfers; all converge with 0 torn, lost or duplicated lines`, { timeout: sized(240_000, 1_800_000) }, async () => {
    const rng = new Rng(SEED ^ 0xc1a5);
    const [pa, pb] = [await freePort(), await freePort()];
    // While its arm file exists, a daemon's next append stops halfway and SIGKILLs the daemon.
    const arms = tempDir('crash-arms');
    const armOf = (name: string) => join(arms, name);
    const hook = (name: string) => ({ ROAM_TEST_KILL_IN_APPEND: armOf(name) });
    const a = await TortureDaemon.create({ name: 'sender', port: pa, peers: [`/ip4/127.0.0.1/tcp/${pb}`], env: hook('sender') });
    const b = await TortureDaemon.create({ name: 'receiver', port: pb, peers: [`/ip4/127.0.0.1/tcp/${pa}`], env: hook('receiver') });
    await Promise.all([a.start(), b.start()]);

    // A writes 8 sessions fast (the main transfer A → B); B writes 3 slowly (B → A), so both
    // daemons send and receive, and a kill always interrupts something.
    const ledger = new Ledger();
    const sessionsA = Array.from({ length: 8 }, (_, i) => `-home-me-proj${i % 3}/a-${i.toString().padStart(2, '0')}-5b1e.jsonl`);
    const sessionsB = Array.from({ length: 3 }, (_, i) => `-home-me-proj${i}/b-${i.toString().padStart(2, '0')}-77c0.jsonl`);
    const writing = startWriting(
      [
        { writer: new Writer('wa', ledger, rng.fork(1), { split: 0.1 }), root: () => a.folder, files: () => sessionsA, bytesPerSec: sized(1_500_000, 1_000_000) },
        { writer: new Writer('wb', ledger, rng.fork(2), { split: 0.1 }), root: () => b.folder, files: () => sessionsB, bytesPerSec: 150_000 },
      ],
      rng.fork(3),
    );

    /** Whether a replica is behind its origin right now (a transfer is under way). */
    const behind = (): boolean => {
      const size = (root: string, f: string) => {
        try {
          return statSync(join(root, f)).size;
        } catch {
          return -1;
        }
      };
      return sessionsA.some((f) => size(b.folder, f) < size(a.folder, f)) || sessionsB.some((f) => size(a.folder, f) < size(b.folder, f));
    };

    /** Replicas (written by roamd, not by a writer) that end in a partial line right now. */
    const partialTails = (d: TortureDaemon): number => {
      const one = Buffer.alloc(1);
      return (d === a ? sessionsB : sessionsA).filter((f) => {
        let fd: number | undefined;
        try {
          fd = openSync(join(d.folder, f), 'r');
          const size = statSync(join(d.folder, f)).size;
          return size > 0 && readSync(fd, one, 0, 1, size - 1) === 1 && one[0] !== 0x0a;
        } catch {
          return false;
        } finally {
          if (fd !== undefined) closeSync(fd);
        }
      }).length;
    };

    const t0 = Date.now();
    const kills: Array<{ victim: string; atMs: number; downMs: number; inFlight: boolean; partial: number; inAppend: boolean }> = [];
    /**
     * Arms the victim's hook and waits for it to kill itself inside an append; when no append
     * comes in time, disarms it and SIGKILLs from outside. Whether the hook fired.
     */
    const killInAppend = async (victim: TortureDaemon): Promise<boolean> => {
      const p = victim.proc!;
      const exited = new Promise<boolean>((r) => p.once('exit', () => r(true)));
      writeFileSync(armOf(victim.name), '');
      const fired = await Promise.race([exited, sleep(10_000).then(() => false)]);
      if (!fired) {
        rmSync(armOf(victim.name), { force: true });
        await victim.kill('SIGKILL');
      }
      return fired && !existsSync(armOf(victim.name)) && p.signalCode === 'SIGKILL';
    };
    let failed = true;
    try {
      await sleep(1000); // let the first lines start flowing
      for (let i = 0; i < KILLS; i++) {
        await sleep(rng.int(200, sized(1200, 2500)));
        const victim = i % 2 === 0 ? b : a; // the receiver, then the sender, …
        const inFlight = behind();
        // Every other kill of each daemon inside its append path, the others from outside.
        const inAppend = i % 4 < 2 ? await killInAppend(victim) : (await victim.kill('SIGKILL'), false);
        const partial = partialTails(victim);
        const downMs = rng.int(0, sized(500, 1500));
        await sleep(downMs);
        await victim.start();
        kills.push({ victim: victim.name, atMs: Date.now() - t0, downMs, inFlight, partial, inAppend });
      }
      await sleep(1000);
      await writing.stop();
      const writtenMs = Date.now() - t0;

      // Converged: every session complete on both sides (stat first, then every line).
      const settledStart = Date.now();
      await until(() => sizesMatch(a.folder, ledger) && sizesMatch(b.folder, ledger), {
        timeoutMs: 180_000,
        everyMs: 250,
        what: 'both daemons to hold every line',
        detail: () => ({ a: a.output.slice(-1500), b: b.output.slice(-1500) }),
      });
      const convergeMs = Date.now() - settledStart;

      const va = verifyExact(a.folder, ledger);
      const vb = verifyExact(b.folder, ledger);
      const logs = a.history + b.history;
      const corrupt = /ROAM_STORE_CORRUPT|uncaught|unhandled/i.exec(logs)?.[0] ?? null;

      report('crash', {
        kills: kills.length,
        killsOfSender: kills.filter((k) => k.victim === a.name).length,
        killsOfReceiver: kills.filter((k) => k.victim === b.name).length,
        killsWithTransferInFlight: kills.filter((k) => k.inFlight).length,
        killsInsideTheAppendPath: kills.filter((k) => k.inAppend).length,
        killsThatLeftAPartialBatch: kills.filter((k) => k.partial > 0).length,
        writtenSeconds: Math.round(writtenMs / 1000),
        sessions: ledger.files.size,
        linesWritten: ledger.count,
        megabytesWritten: +(ledger.bytes / 1e6).toFixed(1),
        linesChecked: va.lines + vb.lines,
        torn: va.torn + vb.torn,
        corrupt: va.corrupt + vb.corrupt,
        unknown: va.unknown + vb.unknown,
        duplicated: va.duplicated + vb.duplicated,
        reordered: va.reordered + vb.reordered,
        lost: va.lost + vb.lost,
        convergeAfterWritesStoppedMs: convergeMs,
        storeCorruptOrCrashInLogs: corrupt,
      });

      expect(kills.length).toBe(KILLS);
      // The write window was hit: kills inside an append left partial batches, all cut back.
      expect(kills.filter((k) => k.partial > 0).length, 'kills that left a partial batch').toBeGreaterThan(0);
      expect(va.torn + vb.torn).toBe(0);
      expect(va.problems).toEqual([]);
      expect(vb.problems).toEqual([]);
      expect(va.lines).toBe(ledger.count);
      expect(vb.lines).toBe(ledger.count);
      expect(corrupt).toBeNull();
      // Both still run and stop cleanly.
      for (const d of [a, b]) {
        await d.stop();
        expect(d.proc!.exitCode, d.output.slice(-2000)).toBe(0);
      }
      failed = false;
    } finally {
      if (failed) {
        await writing.stop().catch(() => undefined);
        console.error(`[torture] crash failed: daemon logs in ${saveLogs('crash', { sender: a.history, receiver: b.history })}`);
      }
    }
  });
});
