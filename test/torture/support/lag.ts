/**
 * Replication lag, seen from the outside: a worker thread polls the replicas' sizes every
 * `everyMs` and, when one grew, reads the new complete lines and notes, for each, how long ago its
 * writer wrote it (the `ts` in the line). The figure includes up to one poll interval of
 * sampling delay. It also samples each daemon's resident set size (VmRSS) once a second.
 */
import { Worker } from 'node:worker_threads';

const WORKER = `
const { parentPort, workerData } = require('node:worker_threads');
const fs = require('node:fs');
const { files, everyMs } = workerData;
const state = files.map((f) => ({ path: f, offset: 0, carry: '' }));
const lags = [];
let lines = 0;
let stopped = false;
parentPort.on('message', (m) => {
  if (m === 'stop') {
    stopped = true;
    look(); // whatever arrived since the last poll
    parentPort.postMessage({ lags, lines });
  }
});
function look() {
  const now = Date.now();
  for (const s of state) {
    let size;
    try { size = fs.statSync(s.path).size; } catch { continue; }
    if (size < s.offset) { s.offset = 0; s.carry = ''; }
    if (size === s.offset) continue;
    const fd = fs.openSync(s.path, 'r');
    try {
      const buf = Buffer.alloc(size - s.offset);
      const n = fs.readSync(fd, buf, 0, buf.length, s.offset);
      s.offset += n;
      const text = s.carry + buf.subarray(0, n).toString('latin1');
      const parts = text.split('\\n');
      s.carry = parts.pop();
      for (const p of parts) {
        const m = /"ts":(\\d+)/.exec(p.slice(0, 400));
        if (m) { lags.push(now - Number(m[1])); lines++; }
      }
    } finally { fs.closeSync(fd); }
  }
}
function loop() {
  if (stopped) return;
  look();
  setTimeout(loop, everyMs);
}
loop();
`;

export class LagSampler {
  private readonly worker: Worker;
  private stopping: Promise<{ lags: number[]; lines: number }> | null = null;

  constructor(files: readonly string[], everyMs = 50) {
    this.worker = new Worker(WORKER, { eval: true, workerData: { files, everyMs } });
  }

  /** Stops sampling; the lag of every line seen (ms) and how many lines that was. */
  stop(): Promise<{ lags: number[]; lines: number }> {
    return (this.stopping ??= new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('lag sampler: no answer')), 30_000);
      this.worker.once('message', (m: { lags: number[]; lines: number }) => {
        clearTimeout(timer);
        void this.worker.terminate();
        resolve(m);
      });
      this.worker.postMessage('stop');
    }));
  }
}

/** Samples VmRSS of some processes once a second until stopped. */
export class RssSampler {
  readonly max = new Map<string, number>();
  readonly last = new Map<string, number>();
  readonly samples = new Map<string, number[]>();
  private readonly timer: NodeJS.Timeout;

  constructor(private readonly targets: () => Array<{ name: string; rssKiB: () => number | null }>, everyMs = 1000) {
    this.timer = setInterval(() => this.sample(), everyMs);
    this.sample();
  }

  sample(): void {
    for (const t of this.targets()) {
      const kib = t.rssKiB();
      if (kib === null) continue;
      this.max.set(t.name, Math.max(this.max.get(t.name) ?? 0, kib));
      this.last.set(t.name, kib);
      let list = this.samples.get(t.name);
      if (!list) this.samples.set(t.name, (list = []));
      list.push(kib);
    }
  }

  stop(): void {
    clearInterval(this.timer);
  }

  /** Max RSS per process in MB (1e6 bytes), rounded. */
  maxMB(): Record<string, number> {
    return Object.fromEntries([...this.max].map(([k, v]) => [k, Math.round((v * 1024) / 1e6)]));
  }

  lastMB(): Record<string, number> {
    return Object.fromEntries([...this.last].map(([k, v]) => [k, Math.round((v * 1024) / 1e6)]));
  }
}
