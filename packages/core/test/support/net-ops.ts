/**
 * The network's steps of a generated schedule, shared by the convergence and union-log
 * properties (converge.ts, union.ts): deliver some in-flight frames, or cut or restore a link.
 */
import { MemoryNetwork } from '../../src/testing/index.js';

export type NetOp =
  | { op: 'deliver'; count: number; picks: number[] }
  | { op: 'toggle'; a: number; b: number };

/** One network step on `net`, whose devices are `ids` (a toggle of a device with itself: nothing). */
export async function runNetOp(net: MemoryNetwork, ids: ReadonlyArray<ReturnType<typeof MemoryNetwork.deviceId>>, op: NetOp): Promise<void> {
  switch (op.op) {
    case 'deliver':
      for (let i = 0; i < op.count; i++) await net.deliverOne((n) => op.picks[i % op.picks.length]! % n);
      break;
    case 'toggle': {
      if (op.a === op.b) break;
      const [a, b] = [ids[op.a]!, ids[op.b]!];
      if (net.isConnected(a, b)) await net.disconnect(a, b);
      else await net.connect(a, b);
      break;
    }
  }
}
