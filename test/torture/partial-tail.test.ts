/**
 * Torture: a tool killed mid-line, and a log nobody stalls. Two real roamd on 127.0.0.1 share
 * sessions. Round after round, A's roamd is SIGKILLed; a real tool process on A writes part of a
 * line to a session and is SIGKILLed in the middle of it (before or after A's roamd went down);
 * B's tool appends complete lines to the same session; A restarts after a random downtime.
 * The half line is abandoned: after the bound (ROAM_PARTIAL_TAIL_MS, short here) A moves it to
 * its trash and takes B's lines as a fast-forward. Afterwards both hold exactly every complete
 * line, in order, with no fork and no torn or foreign line, and A's trash holds every half line
 * byte for byte (`roam restore --list`).
 *
 * Quick (npm test): 3 rounds. Full (npm run torture): 20.
 */
import { spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { until } from '../../packages/core/test/support/poll.js';
import { cleanupAll, trackProcess } from './support/cleanup.js';
import { TortureDaemon, freePort } from './support/daemon.js';
import { Ledger, Writer, makeLine, sizesMatch, verifyExact } from './support/lines.js';
import { SEED, sized } from './support/profile.js';
import { report, saveLogs } from './support/report.js';
import { Rng } from './support/rng.js';

afterEach(cleanupAll);

const ROUNDS = sized(3, 20);
const BOUND_MS = 1000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A tool process that appends `text` to `file` and is SIGKILLed right after, mid-line. */
async function killedMidLine(file: string, text: string): Promise<void> {
  mkdirSync(dirname(file), { recursive: true });
  const script = "const fs=require('fs');const fd=fs.openSync(process.argv[1],'a');fs.writeSync(fd,process.argv[2]);process.stdout.write('wrote\\n');setInterval(()=>{},1000);";
  const p = trackProcess(spawn(process.execPath, ['-e', script, file, text], { stdio: ['ignore', 'pipe', 'inherit'] }));
  let out = '';
  p.stdout!.setEncoding('utf8').on('data', (s: string) => (out += s));
  const exited = new Promise<void>((r) => p.once('exit', () => r()));
  await until(() => out.includes('wrote') || p.exitCode !== null, { timeoutMs: 10_000, what: 'the tool to write half a line' });
  p.kill('SIGKILL');
  await exited;
}

describe('torture: a tool killed mid-line', () => {
  it(`${ROUNDS} rounds of a half line on a stopped device and complete lines on its peer: no log stalls, no fork, every half line in the trash`, { timeout: sized(180_000, 900_000) }, async () => {
    const rng = new Rng(SEED ^ 0x9a47);
    const [pa, pb] = [await freePort(), await freePort()];
    const env = { ROAM_PARTIAL_TAIL_MS: String(BOUND_MS) };
    const a = await TortureDaemon.create({ name: 'halfway', port: pa, peers: [`/ip4/127.0.0.1/tcp/${pb}`], env });
    const b = await TortureDaemon.create({ name: 'onward', port: pb, peers: [`/ip4/127.0.0.1/tcp/${pa}`], env });
    await Promise.all([a.start(), b.start()]);
    const ledger = new Ledger();
    const wa = new Writer('wa', ledger, rng.fork(1));
    const wb = new Writer('wb', ledger, rng.fork(2));
    const halves = new Map<string, number>(); // session → bytes of its half line
    const t0 = Date.now();
    let failed = true;
    try {
      for (let r = 0; r < ROUNDS; r++) {
        const file = `-home-me-proj${r % 3}/s-${r.toString().padStart(2, '0')}-9a47.jsonl`;
        for (let i = rng.int(1, 4); i > 0; i--) await wa.append(a.folder, file);
        await until(() => sizesMatch(b.folder, ledger, [file]), { timeoutMs: 60_000, everyMs: 50, what: `${file} to reach ${b.name}` });
        // A's tool dies mid-line, before or after A's roamd does.
        const line = makeLine(rng, 'wa', 1_000_000 + r, file, rng.int(200, 20_000));
        const half = line.slice(0, rng.int(1, line.length - 2));
        const toolFirst = rng.chance(0.5);
        if (toolFirst) await killedMidLine(join(a.folder, file), half);
        await a.kill('SIGKILL');
        if (!toolFirst) await killedMidLine(join(a.folder, file), half);
        halves.set(file, Buffer.byteLength(half));
        for (let i = rng.int(1, 3); i > 0; i--) await wb.append(b.folder, file);
        await sleep(rng.int(0, 1500));
        await a.start();
      }
      const writtenMs = Date.now() - t0;
      const settledStart = Date.now();
      await until(() => sizesMatch(a.folder, ledger) && sizesMatch(b.folder, ledger), {
        timeoutMs: 120_000, everyMs: 100, what: 'both daemons to hold every complete line',
        detail: () => ({ a: a.log().slice(-1500), b: b.log().slice(-800) }),
      });
      const convergeMs = Date.now() - settledStart;
      const sync = await b.roam('sync', '--wait', '--timeout', '60');
      const va = verifyExact(a.folder, ledger);
      const vb = verifyExact(b.folder, ledger);
      const list = await a.roam('restore', '--list', '--json');
      const trash = JSON.parse(list.stdout) as Array<{ name: string; size: number }>;
      const kept = [...halves].filter(([file, bytes]) => trash.some((e) => e.name === `${file}.partial` && e.size === bytes));
      const dropped = (a.log().match(/its partial last line \(\d+ bytes\)/g) ?? []).length;

      report('partial-tail', {
        rounds: ROUNDS,
        writtenSeconds: Math.round(writtenMs / 1000),
        linesWritten: ledger.count,
        halfLinesKilled: halves.size,
        halfLinesDropped: dropped,
        halfLinesInTrash: kept.length,
        linesChecked: va.lines + vb.lines,
        torn: va.torn + vb.torn,
        unknownOrForked: va.unknown + vb.unknown,
        lost: va.lost + vb.lost,
        duplicated: va.duplicated + vb.duplicated,
        convergeAfterLastRestartMs: convergeMs,
        syncWaitExit: sync.status,
      });

      expect(sync.status, sync.stderr).toBe(0);
      expect(va.problems).toEqual([]);
      expect(vb.problems).toEqual([]);
      expect(va.lines).toBe(ledger.count);
      expect(vb.lines).toBe(ledger.count);
      expect(kept.map(([f]) => f)).toEqual([...halves.keys()]);
      expect(dropped).toBe(ROUNDS);
      failed = false;
    } finally {
      if (failed) console.error(`[torture] partial-tail failed: daemon logs in ${saveLogs('partial-tail', { halfway: a.history + a.log(), onward: b.history + b.log() })}`);
    }
  });
});
