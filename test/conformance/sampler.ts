// What an end state cannot show, sampled while a scenario runs: a worker thread looks at watched
// files every ~0.5 ms and notes (1) a line log that ends in a partial line (a peer showing a torn
// line) and (2) a file that has existed and is then absent (a file vanishing while being updated;
// Syncthing's replacement deletes the old file before renaming the new one in, for 1-2 ms).
import { Worker } from 'node:worker_threads';

export interface Violation {
  kind: 'torn' | 'vanished';
  /** Size of the file when it ended in a partial line; 0 for `vanished`. */
  size: number;
  /** `vanished`: how long the file was absent (ms), -1 if it had not come back by the end. */
  gapMs: number;
  /** Milliseconds since the watch began. */
  atMs: number;
}

export interface WatchResult {
  path: string;
  samples: number;
  violations: Violation[];
}

// Plain JS run in the worker: bursts of 20 ms that sample every watch, 0.5 ms apart, then a
// turn of the event loop for messages. Idle (no watches) it waits 5 ms between looks.
const WORKER = `
const { parentPort } = require('node:worker_threads');
const fs = require('node:fs');
const watches = new Map();
const gate = new Int32Array(new SharedArrayBuffer(4));
const one = Buffer.alloc(1);
let stopped = false;
parentPort.on('message', (m) => {
  if (m.t === 'watch') watches.set(m.id, { path: m.path, torn: m.torn, vanish: m.vanish, seen: false, present: false, samples: 0, violations: [], t0: Date.now(), lastTorn: -1, gone: null });
  else if (m.t === 'collect') {
    const w = watches.get(m.id);
    watches.delete(m.id);
    parentPort.postMessage({ t: 'result', id: m.id, result: w ? { path: w.path, samples: w.samples, violations: w.violations } : null });
  } else if (m.t === 'stop') {
    stopped = true;
    parentPort.close();
  }
});
function look(w) {
  w.samples++;
  let fd;
  try {
    fd = fs.openSync(w.path, 'r');
  } catch (e) {
    if (w.present && w.vanish && w.violations.length < 50) {
      w.gone = { kind: 'vanished', size: 0, atMs: Date.now() - w.t0, gapMs: -1 };
      w.violations.push(w.gone);
    }
    w.present = false;
    return;
  }
  try {
    if (w.gone) {
      w.gone.gapMs = Date.now() - w.t0 - w.gone.atMs;
      w.gone = null;
    }
    w.seen = w.present = true;
    if (!w.torn) return;
    const size = fs.fstatSync(fd).size;
    if (size === 0) return;
    fs.readSync(fd, one, 0, 1, size - 1);
    // One violation per torn state (size), not one per look.
    if (one[0] !== 10 && w.lastTorn !== size && w.violations.length < 50) {
      w.lastTorn = size;
      w.violations.push({ kind: 'torn', size, atMs: Date.now() - w.t0, gapMs: 0 });
    }
  } catch (e) {
    // replaced or truncated between open and read: the next look sees the new state
  } finally {
    fs.closeSync(fd);
  }
}
function burst() {
  if (stopped) return;
  const end = Date.now() + 20;
  do {
    if (watches.size === 0) { Atomics.wait(gate, 0, 0, 5); break; }
    for (const w of watches.values()) look(w);
    Atomics.wait(gate, 0, 0, 0.5);
  } while (Date.now() < end);
  setImmediate(burst);
}
burst();
`;

export class Sampler {
  private readonly worker: Worker;
  private nextId = 1;
  private readonly waiting = new Map<number, (r: WatchResult | null) => void>();

  constructor() {
    this.worker = new Worker(WORKER, { eval: true });
    this.worker.unref();
    this.worker.on('message', (m: { t: 'result'; id: number; result: WatchResult | null }) => {
      this.waiting.get(m.id)?.(m.result);
      this.waiting.delete(m.id);
    });
  }

  /** Starts watching an absolute path; `torn` checks the last byte is a newline (line logs). */
  watch(path: string, opts: { torn: boolean; vanish: boolean }): number {
    const id = this.nextId++;
    this.worker.postMessage({ t: 'watch', id, path, ...opts });
    return id;
  }

  /** Stops one watch and returns what it saw. */
  collect(id: number): Promise<WatchResult> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`sampler: no answer for watch ${id}`)), 10_000);
      this.waiting.set(id, (r) => {
        clearTimeout(timer);
        if (r) resolve(r);
        else reject(new Error(`sampler: unknown watch ${id}`));
      });
      this.worker.postMessage({ t: 'collect', id });
    });
  }

  async stop(): Promise<void> {
    this.worker.postMessage({ t: 'stop' });
    await this.worker.terminate();
  }
}
