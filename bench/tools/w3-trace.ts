/**
 * Evidence for W3's wire figure, end to end: a roam pair (B dials A through the counting proxy, as in
 * W3) over one large log, roamd started with the frame-log preload; then an idle window and a few
 * appends of one line, each followed by a quiet second. Prints, per window, every sync frame each side
 * sent (type, folder, item, frame bytes) and the TCP chunks the proxy saw, so the bytes on the wire
 * can be told apart: the line's own frames, the shared-state file, acknowledgements, transport overhead.
 *   node bench/dist/tools/w3-trace.js [--log-bytes 6m] [--appends 3] [--line 1007]
 */
import { appendFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseSize } from '../lib/args.js';
import { corpus, QUICK, type Ctx } from '../lib/context.js';
import { appendLines } from '../lib/corpus.js';
import { startRoamPair } from '../lib/pairs.js';
import { installCleanup, REPO, sleep } from '../lib/util.js';
import { untilOk } from '#harness/poll.js';

const argv = process.argv.slice(2);
const opt = (f: string, d: string) => {
  const i = argv.indexOf(f);
  return i >= 0 && argv[i + 1] ? argv[i + 1]! : d;
};
const logBytes = parseSize(opt('--log-bytes', '6m'));
const appends = Number(opt('--appends', '3'));
const lineBytes = Number(opt('--line', '1000'));

interface FrameRec { at: number; dir: 'in' | 'out'; peer: string; bytes: number; t: string; folder?: string; name?: string; data?: number; items?: number }

async function main(): Promise<void> {
  installCleanup();
  const work = mkdtempSync(path.join(os.tmpdir(), 'w3t-'));
  const preload = path.join(REPO, 'bench', 'dist', 'tools', 'frame-log.cjs');
  const ctx: Ctx = {
    quick: true, sizes: { ...QUICK, bigLogBytes: logBytes }, seed: 'roam', work, corpusRoot: path.join(work, 'corpus'), syncthing: false, raw: false,
    roamdNodeArgs: ['--require', preload], profileDir: null,
  };
  const c = await corpus(ctx, 'biglog', { kind: 'log', bytes: logBytes });
  const f = c.manifest.files[0]!;
  const pair = await startRoamPair(ctx, c, { copy: true, proxy: true });
  const proxy = pair.proxy!;
  proxy.trace = [];
  const frames = (pid: number): FrameRec[] => readFileSync(`/tmp/frame-log-${pid}.jsonl`, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as FrameRec);
  const pids = { A: pair.a.pid, B: pair.b.pid };
  const quiet = async (ms: number) => {
    let last = proxy.total;
    let since = Date.now();
    await untilOk(() => {
      if (proxy.total !== last) {
        last = proxy.total;
        since = Date.now();
      }
      return Date.now() - since >= ms ? undefined : 'traffic';
    }, { what: 'quiet link', timeoutMs: 30_000, everyMs: 20 });
  };
  const lines = appendLines('roam:big', appends, path.basename(f.path, '.jsonl'), lineBytes);
  const aFile = path.join(pair.a.projects, f.path);
  try {
    await quiet(1500);
    const windows: Array<{ label: string; from: number; to: number }> = [];
    let from = Date.now();
    await sleep(2500);
    windows.push({ label: 'idle 2.5 s', from, to: Date.now() });
    for (let i = 0; i < appends; i++) {
      from = Date.now();
      appendFileSync(aFile, lines[i]!);
      await quiet(1000);
      windows.push({ label: `append ${i + 1} (${Buffer.byteLength(lines[i]!)} B line)`, from, to: Date.now() });
      // A second append soon after (a session writes in bursts) would find the lease already fresh.
    }
    const all = { A: frames(pids.A), B: frames(pids.B) };
    for (const w of windows) {
      const tcp = proxy.trace.filter((x) => x.at >= w.from && x.at < w.to);
      const up = tcp.filter((x) => x.dir === 'up').reduce((a, x) => a + x.bytes, 0);
      const down = tcp.filter((x) => x.dir === 'down').reduce((a, x) => a + x.bytes, 0);
      process.stdout.write(`\n== ${w.label}: ${up + down} B on the wire (B→A ${up}, A→B ${down}) in ${tcp.length} TCP reads\n`);
      let payload = 0;
      let nFrames = 0;
      for (const side of ['A', 'B'] as const) {
        for (const r of all[side].filter((x) => x.dir === 'out' && x.at >= w.from && x.at < w.to)) {
          payload += r.bytes;
          nFrames++;
          process.stdout.write(`  +${String(r.at - w.from).padStart(5)} ms  ${side}→${side === 'A' ? 'B' : 'A'}  ${String(r.bytes).padStart(5)} B  ${r.t.padEnd(8)} ${r.folder ?? ''} ${r.name ?? ''}${r.data !== undefined ? ` (data ${r.data} B)` : ''}${r.items !== undefined ? ` (${r.items} items)` : ''}\n`);
        }
      }
      process.stdout.write(`  frames: ${nFrames}, ${payload} B of roam payload; transport overhead ${up + down - payload} B (${nFrames ? ((up + down - payload) / nFrames).toFixed(1) : '–'} B per frame)\n`);
      process.stdout.write(`  TCP reads: ${tcp.map((x) => `${x.dir === 'up' ? '↑' : '↓'}${x.bytes}@${x.at - w.from}`).join(' ')}\n`);
    }
  } finally {
    await pair.stop();
    for (const pid of Object.values(pids)) rmSync(`/tmp/frame-log-${pid}.jsonl`, { force: true });
    rmSync(work, { recursive: true, force: true });
  }
}

main().then(() => process.exit(0), (err: unknown) => {
  process.stderr.write(`w3-trace: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
