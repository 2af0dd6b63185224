/**
 * How far another device's clock is from this one's, measured by round trips (as NTP does): this
 * device notes t0, asks the peer for its time T over a small protocol of its own, and notes t1 when
 * the answer arrives. The peer read its clock somewhere within [t0, t1]; the midpoint is the best
 * guess, so skew = T - (t0 + rtt/2), give or take rtt/2. The probe with the smallest round trip of a
 * few wins. (The shared state's `updatedAt` against the time its file arrived measured the transfer
 * too: a file written before a peer connected looked like seconds of skew on one host.)
 */
import type { Stream } from '@libp2p/interface';
import { lpStream } from '@libp2p/utils';
import type { ClockReading } from '../control/results.js';
import type { Network } from './net/index.js';

export const CLOCK_PROTOCOL = '/roam/clock/1.0.0';
const PROBES = 4;
const TIMEOUT_MS = 5_000;

/** Answers each probe (an empty frame) with this device's clock, an 8-byte float64 of ms since the epoch. */
export async function serveClock(net: Network, now: () => number = Date.now): Promise<void> {
  await net.handle(CLOCK_PROTOCOL, async (stream: Stream) => {
    const lp = lpStream(stream, { maxDataLength: 16 });
    try {
      for (let i = 0; i < PROBES; i++) {
        await lp.read({ signal: AbortSignal.timeout(TIMEOUT_MS) });
        const b = new Uint8Array(8);
        new DataView(b.buffer).setFloat64(0, now());
        await lp.write(b, { signal: AbortSignal.timeout(TIMEOUT_MS) });
      }
      await stream.close({ signal: AbortSignal.timeout(TIMEOUT_MS) });
    } catch (err) {
      stream.abort(err as Error);
    }
  });
}

/** Measures one connected peer's clock (PROBES round trips; the fastest decides). */
export async function measureClock(net: Network, peerId: string, now: () => number = Date.now): Promise<ClockReading> {
  const stream = await net.openProtocolStream(peerId, CLOCK_PROTOCOL, AbortSignal.timeout(TIMEOUT_MS));
  const lp = lpStream(stream, { maxDataLength: 16 });
  let best: ClockReading | null = null;
  try {
    for (let i = 0; i < PROBES; i++) {
      const t0 = now();
      await lp.write(new Uint8Array(0), { signal: AbortSignal.timeout(TIMEOUT_MS) });
      const reply = (await lp.read({ signal: AbortSignal.timeout(TIMEOUT_MS) })).subarray();
      const t1 = now();
      if (reply.length !== 8) throw new Error('malformed clock reply');
      const peer = new DataView(reply.buffer, reply.byteOffset, 8).getFloat64(0);
      const rttMs = t1 - t0;
      if (!best || rttMs < best.rttMs) best = { peerId, skewMs: peer - (t0 + rttMs / 2), rttMs };
    }
    await stream.close({ signal: AbortSignal.timeout(TIMEOUT_MS) });
  } catch (err) {
    stream.abort(err as Error);
    throw err;
  }
  return best!;
}
