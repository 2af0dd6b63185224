/**
 * Two engines joined in one process by a pair of FIFO links that deliver by themselves, frame by
 * frame, each delivery awaited (the receiver's backpressure reaches the sender). For tests and
 * examples that want real engines and stores without a network; the frames are real encoded
 * protocol messages.
 */
import type { Engine, Link } from '../engine.js';

export interface Endpoint {
  readonly id: string;
  readonly engine: Engine;
}

export interface LinkPair {
  /** Frames and bytes carried so far, per direction. */
  readonly carried: { frames: number; bytes: number };
  /** What each engine did with its link, in order: a frame sent (the frame itself) or a `flush`. */
  readonly trace: Array<{ readonly from: string; readonly frame?: Uint8Array; readonly flush?: true }>;
  /** Resolves when nothing is queued in either direction. */
  drained(): Promise<void>;
  close(): Promise<void>;
}

/** Frames a link may queue before `send` waits for the receiver. */
const WINDOW = 64;

export async function linkPair(a: Endpoint, b: Endpoint): Promise<LinkPair> {
  let open = true;
  // Nothing is delivered until both engines are attached: a frame for an engine that does not
  // know the peer yet would be dropped (as a real engine drops frames of an unknown link).
  let started = false;
  const carried = { frames: 0, bytes: 0 };
  const trace: LinkPair['trace'] = [];
  const idle: Array<() => void> = [];

  const direction = (from: Endpoint, to: Endpoint) => {
    const queue: Uint8Array[] = [];
    const waiting: Array<() => void> = [];
    let pumping = false;
    const pump = async () => {
      if (pumping || !started) return;
      pumping = true;
      while (open && queue.length) {
        const frame = queue.shift()!;
        waiting.shift()?.();
        carried.frames++;
        carried.bytes += frame.length;
        await to.engine.onFrame(from.id, frame, back.get(to.id));
      }
      pumping = false;
      if (!queue.length) for (const f of idle.splice(0)) f();
    };
    const link: Link = {
      send: async (frame) => {
        if (!open) return;
        trace.push({ from: from.id, frame });
        queue.push(frame);
        void pump();
        if (queue.length > WINDOW) await new Promise<void>((r) => waiting.push(r));
      },
      flush: () => void trace.push({ from: from.id, flush: true }),
      close: () => void pair.close(),
    };
    return { link, pump, busy: () => pumping || queue.length > 0 };
  };

  // The link each engine uses to send to the other, keyed by the sender's id.
  const back = new Map<string, Link>();
  const ab = direction(a, b);
  const ba = direction(b, a);
  back.set(a.id, ab.link);
  back.set(b.id, ba.link);

  const pair: LinkPair = {
    carried,
    trace,
    drained: async () => {
      while (open && (ab.busy() || ba.busy())) await new Promise<void>((r) => idle.push(r));
    },
    close: async () => {
      if (!open) return;
      open = false;
      for (const f of idle.splice(0)) f();
      await a.engine.detach(b.id, ab.link);
      await b.engine.detach(a.id, ba.link);
    },
  };
  await a.engine.attach(b.id, ab.link);
  await b.engine.attach(a.id, ba.link);
  started = true;
  void ab.pump();
  void ba.pump();
  return pair;
}
