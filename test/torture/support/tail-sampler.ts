/**
 * What a reader of the replicas would see, sampled about every millisecond by a worker thread:
 * (1) a line log whose last byte is not a newline (a partial line), and for how long it stayed
 * so; (2) a file that existed and then was absent, and for how long.
 *
 * The kernel makes a large write visible page by page while the write call runs (the file's
 * size grows as each page is copied), so a reader can catch a partial last line for the
 * microseconds a write takes, whoever writes: the tools themselves do. Such a state is counted
 * (`transientTorn`) but only one that outlives `tornMs` (default 50 ms, far longer than any
 * write call here) is a violation: a partial line left on disk.
 */
import { Worker } from 'node:worker_threads';

export interface TailViolation {
  path: string;
  kind: 'torn' | 'vanished';
  /** The file's size in the torn state (0 for vanished). */
  size: number;
  /** How long the state lasted (ms); -1 if it still held at the end. */
  durationMs: number;
}

export interface TailReport {
  looks: number;
  transientTorn: number;
  violations: TailViolation[];
}

const WORKER = `
const { parentPort, workerData } = require('node:worker_threads');
const fs = require('node:fs');
const { paths, tornMs } = workerData;
const one = Buffer.alloc(1);
const st = paths.map((p) => ({ path: p, present: false, tornAt: 0, tornSize: -1, goneAt: 0 }));
const out = { looks: 0, transientTorn: 0, violations: [] };
const gate = new Int32Array(new SharedArrayBuffer(4));
let stopped = false;
parentPort.on('message', (m) => {
  if (m !== 'stop') return;
  stopped = true;
  const now = Date.now();
  for (const s of st) {
    if (s.tornSize >= 0 && now - s.tornAt > tornMs) out.violations.push({ path: s.path, kind: 'torn', size: s.tornSize, durationMs: -1 });
    if (s.goneAt) out.violations.push({ path: s.path, kind: 'vanished', size: 0, durationMs: -1 });
  }
  parentPort.postMessage(out);
});
function settleTorn(s, now) {
  if (s.tornSize < 0) return;
  const d = now - s.tornAt;
  if (d > tornMs) { if (out.violations.length < 100) out.violations.push({ path: s.path, kind: 'torn', size: s.tornSize, durationMs: d }); }
  else out.transientTorn++;
  s.tornSize = -1;
}
function look(s) {
  out.looks++;
  const now = Date.now();
  let fd;
  try { fd = fs.openSync(s.path, 'r'); } catch {
    if (s.present && !s.goneAt) s.goneAt = now;
    s.present = false;
    settleTorn(s, now);
    return;
  }
  try {
    if (s.goneAt) { if (out.violations.length < 100) out.violations.push({ path: s.path, kind: 'vanished', size: 0, durationMs: now - s.goneAt }); s.goneAt = 0; }
    s.present = true;
    const size = fs.fstatSync(fd).size;
    const torn = size > 0 && fs.readSync(fd, one, 0, 1, size - 1) === 1 && one[0] !== 10;
    if (!torn) settleTorn(s, now);
    else if (s.tornSize !== size) { settleTorn(s, now); s.tornSize = size; s.tornAt = now; }
  } catch {
    // replaced between open and read: the next look sees the new state
  } finally { fs.closeSync(fd); }
}
function burst() {
  if (stopped) return;
  const end = Date.now() + 20;
  do { for (const s of st) look(s); Atomics.wait(gate, 0, 0, 1); } while (Date.now() < end);
  setImmediate(burst);
}
burst();
`;

export class TailSampler {
  private readonly worker: Worker;
  private result: Promise<TailReport> | null = null;

  constructor(paths: readonly string[], tornMs = 50) {
    this.worker = new Worker(WORKER, { eval: true, workerData: { paths, tornMs } });
  }

  stop(): Promise<TailReport> {
    return (this.result ??= new Promise<TailReport>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('tail sampler: no answer')), 30_000);
      this.worker.once('message', (m: TailReport) => {
        clearTimeout(timer);
        void this.worker.terminate();
        resolve(m);
      });
      this.worker.postMessage('stop');
    }));
  }
}
