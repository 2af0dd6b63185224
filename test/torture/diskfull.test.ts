/**
 * Torture: disk full. The receiving daemon's folder is on a small tmpfs this test mounts, most of
 * it taken by a filler file; the sender's writer produces about twice what is left, sessions and
 * a whole file. The receiver must say clearly in its log that the disk is full, keep running,
 * and corrupt nothing: its replicas are always whole lines, each a prefix of the original, the
 * whole file is absent or complete, no temp file is left behind; a sampler watches the replicas
 * for a partial last line or a vanishing file all along. Then the filler is deleted, nothing new
 * is written, and the receiver must catch up on its own.
 *
 * Needs root (mount -t tmpfs); skipped with a notice without it (fails under CI=true).
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { until } from '../../packages/core/test/support/poll.js';
import { cleanupAll, tempDir } from './support/cleanup.js';
import { TortureDaemon } from './support/daemon.js';
import { freeBytes, mountTmpfs } from './support/disk.js';
import { Ledger, Writer, fileKeys, listFiles, sizesMatch, verifyExact } from './support/lines.js';
import { SEED, STRICT, sized } from './support/profile.js';
import { report, saveLogs } from './support/report.js';
import { TailSampler } from './support/tail-sampler.js';
import { Rng } from './support/rng.js';

afterEach(cleanupAll);

const MiB = 1024 * 1024;
const TMPFS = sized(24, 64) * MiB;
const ROOM = sized(5, 16) * MiB;
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

describe('torture: disk full', () => {
  it('a receiver whose folder fills up says so, corrupts nothing, and catches up once space is freed', { timeout: sized(180_000, 600_000) }, async ({ skip }) => {
    const tmp = tempDir('diskfull');
    const mnt = join(tmp, 'mnt');
    const mounted = mountTmpfs(mnt, TMPFS);
    if (!mounted.ok) {
      if (STRICT) throw new Error(`the disk-full test needs to mount a tmpfs (root): ${mounted.reason}`);
      console.warn(`\ndisk-full torture test SKIPPED: ${mounted.reason}\n`);
      return skip(mounted.reason);
    }
    const folder = join(mnt, 'folder');
    mkdirSync(folder);
    const filler = join(mnt, 'filler.bin');
    writeFileSync(filler, Buffer.alloc(TMPFS - ROOM, 0x66));
    const roomAtStart = freeBytes(mnt);

    const a = await TortureDaemon.create({ name: 'sender' });
    const b = await TortureDaemon.create({ name: 'receiver', folder, peers: [] });
    b.peers.push(a.address);
    await a.start();
    await b.start();

    const rng = new Rng(SEED ^ 0xd15c);
    const ledger = new Ledger();
    const w = new Writer('wa', ledger, rng.fork(1), { large: 0.03 });
    const sessions = Array.from({ length: 6 }, (_, i) => `-home-me-app/s${i}.jsonl`);
    const wholeName = '-home-me-app/s0/tool-results/toolu_01.txt';
    const whole = Buffer.from(Array.from({ length: 40_000 }, (_, i) => `result line ${i} ${'r'.repeat(i % 60)}\n`).join(''));
    // A reader's view of the receiver's copies all along (the whole file too: never half of it).
    const sampler = new TailSampler([...sessions, wholeName].map((f) => join(folder, f)));

    let failed = true;
    try {
      // About twice the room left, in lines of every size, and a whole file halfway.
      let written = 0;
      while (written < 2 * ROOM) {
        written += await w.append(a.folder, rng.pick(sessions));
        if (written > ROOM && !existsSync(join(a.folder, wholeName))) {
          mkdirSync(join(a.folder, '-home-me-app/s0/tool-results'), { recursive: true });
          writeFileSync(join(a.folder, wholeName), whole);
        }
        if (rng.chance(0.2)) await new Promise((r) => setTimeout(r, 5));
      }

      // The receiver says the disk is full, and keeps running.
      const full = /no space left on device|ENOSPC/i;
      await until(() => full.test(b.log()), { timeoutMs: 60_000, everyMs: 100, what: "the receiver's log to report the full disk", detail: () => b.log().slice(-3000) });
      // What it still needs shows in `roam status` too.
      let needWhileFull: unknown = null;
      await until(
        async () => {
          const s = await b.status();
          const p = s.peers.find((x) => x.peerId === a.peerId);
          needWhileFull = p?.need;
          return !!p && p.connected && p.need.items > 0;
        },
        { timeoutMs: 30_000, everyMs: 250, what: 'roam status to show what the receiver still needs', detail: () => needWhileFull },
      );
      expect(b.running).toBe(true);
      const errorLines = b.log().split('\n').filter((l) => full.test(l));

      // Nothing corrupt while full: whole lines, each replica a prefix of its original, the whole
      // file absent or complete, no temp file left.
      const checkWhileFull = () => {
        const problems: string[] = [];
        for (const f of sessions) {
          if (!existsSync(join(folder, f))) continue;
          const data = readFileSync(join(folder, f));
          if (data.length && data[data.length - 1] !== 0x0a) problems.push(`${f}: partial last line`);
          const keys = fileKeys(folder, f);
          const expected = ledger.files.get(f) ?? [];
          if (keys.some((k, i) => expected[i] !== k)) problems.push(`${f}: not a prefix of the original`);
          if (data.toString('utf8').split('\n').filter(Boolean).length !== keys.length) problems.push(`${f}: a corrupt line`);
        }
        if (existsSync(join(folder, wholeName)) && sha(readFileSync(join(folder, wholeName))) !== sha(whole)) problems.push(`${wholeName}: half a file`);
        const temps = findTemps(folder);
        if (temps.length) problems.push(`temp files left: ${temps.join(', ')}`);
        return problems;
      };
      // (Temp files may exist for a moment while a transfer is staged: poll until there are none.)
      let problems: string[] = [];
      await until(() => (problems = checkWhileFull()).length === 0, { timeoutMs: 30_000, everyMs: 200, what: 'the full receiver to hold nothing corrupt', detail: () => problems });
      const heldWhileFull = listFiles(folder).reduce((n, f) => n + (f.endsWith('.jsonl') ? fileKeys(folder, f).length : 0), 0);

      // Space is freed; nothing new is written: the receiver catches up on its own.
      rmSync(filler);
      const freedAt = Date.now();
      await until(() => sizesMatch(folder, ledger) && existsSync(join(folder, wholeName)), {
        timeoutMs: sized(60_000, 300_000),
        everyMs: 250,
        what: 'the receiver to catch up after space was freed',
        detail: () => ({ log: b.log().slice(-3000), behind: sessions.filter((f) => !sizesMatch(folder, ledger, [f])) }),
      });
      const catchUpMs = Date.now() - freedAt;
      const v = verifyExact(folder, ledger);
      const onSender = verifyExact(a.folder, ledger);
      expect(sha(readFileSync(join(folder, wholeName)))).toBe(sha(whole));
      const seen = await sampler.stop();
      const violations = seen.violations;

      report('diskfull', {
        tmpfsMB: TMPFS / MiB,
        roomAtStartMB: +(roomAtStart / MiB).toFixed(1),
        writtenMB: +(ledger.bytes / MiB).toFixed(1),
        wholeFileMB: +(whole.length / MiB).toFixed(1),
        linesWritten: ledger.count,
        errorsLogged: errorLines.length,
        firstError: errorLines[0]?.slice(25, 260) ?? null,
        statusNeedWhileFull: needWhileFull,
        linesHeldWhileFull: heldWhileFull,
        catchUpAfterFreeingMs: catchUpMs,
        samplerLooks: seen.looks,
        partialLinesLeftOrFilesVanished: violations.length,
        partialLinesWhileAWriteRan: seen.transientTorn,
        linesChecked: v.lines + onSender.lines,
        torn: v.torn,
        corrupt: v.corrupt,
        unknown: v.unknown,
        duplicated: v.duplicated,
        lost: v.lost,
      });
      expect(v.problems).toEqual([]);
      expect(onSender.problems).toEqual([]);
      expect(violations).toEqual([]);
      failed = false;
    } finally {
      await sampler.stop().catch(() => undefined);
      if (failed) {
        const status = JSON.stringify(await Promise.all([a, b].map((d) => d.status().catch(String))), null, 2);
        const sizes = JSON.stringify(Object.fromEntries([...ledger.fileBytes].map(([f, n]) => [f, { want: n, have: existsSync(join(folder, f)) ? readFileSync(join(folder, f)).length : null }])));
        console.error(`[torture] diskfull failed: daemon logs in ${saveLogs('diskfull', { sender: a.history, senderLog: a.log(), receiver: b.history, receiverLog: b.log(), status, sizes })}`);
      }
    }
  });
});

/** roam's temp files (`.roam-tmp-*`) anywhere under `root`. */
function findTemps(root: string, rel = ''): string[] {
  const out: string[] = [];
  for (const d of readdirSync(join(root, rel), { withFileTypes: true })) {
    const r = rel ? `${rel}/${d.name}` : d.name;
    if (d.isDirectory()) out.push(...findTemps(root, r));
    else if (d.name.startsWith('.roam-tmp-')) out.push(r);
  }
  return out;
}
