/**
 * A full garbage collection once roamd has gone quiet after a burst of work (indexing, a sync).
 *
 * V8 collects its old generation when it allocates, never because the process is idle (Node does
 * not tell V8 it is idle), so the garbage of a burst stays in the heap, and the off-heap buffers
 * its dead wrappers hold stay allocated, for as long as roamd does nothing: measured on 10,000
 * files, 106 MB of heap used and 45 MB of array buffers idle, of which 44 MB and 0 MB were alive
 * (bench W5). One collection when the burst is over returns that; V8 then shrinks the heap.
 *
 * Cheap when nothing happens: a look at the heap's size every few seconds; a collection only when
 * the heap and its buffers grew by at least `minGrowth` since the last one and the last interval
 * was quiet (the burst is over), or by `maxGrowth` in a long burst: V8 lets the old generation of
 * a small heap grow to ~100 MB before its first full collection (indexing 10,000 files with 1 MB
 * semi-spaces: 25 → 100 MB used, 44 MB alive); one collection per `maxGrowth` of garbage (tens of
 * ms for a heap of this size) keeps the peak near what is alive.
 */
import { setFlagsFromString, getHeapStatistics } from 'node:v8';
import { runInNewContext } from 'node:vm';

const EVERY_MS = 2_000;
/**
 * Quiet: below this CPU share of one core, and the heap grew by less than QUIET_GROWTH in the last
 * interval (roamd's idle housekeeping, its 5 s tick, is a few % of a core on a loaded machine).
 */
const IDLE_CPU = 0.25;
const QUIET_GROWTH = 2 * 1024 * 1024;

export interface IdleGc {
  stop(): void;
  /** Collections run so far. */
  readonly runs: number;
}

/** `gc` as --expose-gc gives it, obtained at run time (the flag takes effect for new contexts), or null. */
function exposeGc(): (() => void) | null {
  const existing = (globalThis as { gc?: () => void }).gc;
  if (typeof existing === 'function') return existing;
  try {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as unknown;
    return typeof gc === 'function' ? (gc as () => void) : null;
  } catch {
    return null;
  }
}

export function startIdleGc(opts: { minGrowth?: number; maxGrowth?: number; everyMs?: number } = {}): IdleGc {
  const gc = exposeGc();
  const minGrowth = opts.minGrowth ?? 16 * 1024 * 1024;
  const maxGrowth = opts.maxGrowth ?? 32 * 1024 * 1024;
  const size = () => {
    const h = getHeapStatistics();
    return h.used_heap_size + h.external_memory;
  };
  let base = size();
  let last = base;
  let cpu = process.cpuUsage();
  let at = performance.now();
  const state = { runs: 0 };
  const timer = setInterval(() => {
    const now = performance.now();
    const used = process.cpuUsage(cpu);
    const share = (used.user + used.system) / 1000 / Math.max(1, now - at);
    cpu = process.cpuUsage();
    at = now;
    const s = size();
    const grew = s - last;
    last = s;
    if (s < base) base = s; // V8 collected by itself
    const quiet = share <= IDLE_CPU && grew <= QUIET_GROWTH;
    if (!gc || s - base < (quiet ? minGrowth : maxGrowth)) return;
    gc();
    state.runs++;
    base = last = size();
    cpu = process.cpuUsage(); // the collection's own CPU is not the next interval's work
    at = performance.now();
  }, opts.everyMs ?? EVERY_MS);
  timer.unref();
  return {
    stop: () => clearInterval(timer),
    get runs() {
      return state.runs;
    },
  };
}
