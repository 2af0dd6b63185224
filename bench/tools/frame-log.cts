/**
 * A diagnostic preload for roamd (not used by the benchmarks themselves): logs every sync frame the
 * engine sends and receives — time (ms since the epoch), direction, message type, folder, item name, frame bytes, and for
 * data frames the payload bytes — to /tmp/frame-log-<pid>.jsonl, to tell which messages make up a
 * figure (W3's bytes on the wire, say).
 *   npm run bench -- --only biglog --roamd-node-args "--require $PWD/bench/dist/tools/frame-log.cjs"
 * bench/tools/w3-trace.ts uses it to break one append down frame by frame.
 * It patches the Engine class of the one @roam/core instance roamd loads (the ES module cache is
 * shared with this preload's dynamic import), before roamd opens its engine.
 */
import fs = require('node:fs');

type Msg = { t: string; folder?: string; name?: string; data?: Uint8Array; items?: Array<{ name: string }> };
interface EngineProto {
  sendNow(this: unknown, peer: string, msg: Msg): Promise<void>;
  onFrame(this: unknown, peer: string, frame: Uint8Array, link?: unknown): Promise<void>;
}

const file = `/tmp/frame-log-${process.pid}.jsonl`;
const out = fs.openSync(file, 'w');
const write = (rec: Record<string, unknown>) => fs.writeSync(out, `${JSON.stringify({ at: Date.now(), ...rec })}\n`);
const describe = (m: Msg) => ({
  t: m.t,
  ...(m.folder ? { folder: m.folder } : {}),
  ...(m.name ? { name: m.name } : m.items ? { name: m.items.map((i) => i.name).join(',').slice(0, 200), items: m.items.length } : {}),
  ...(m.data ? { data: m.data.length } : {}),
});

void (async () => {
  const core = (await import('@roam/core')) as unknown as { Engine: { prototype: EngineProto }; encodeMessage(m: Msg): Uint8Array; decodeMessage(f: Uint8Array): Msg };
  const proto = core.Engine.prototype;
  const send = proto.sendNow;
  proto.sendNow = function (peer, msg) {
    let bytes = -1;
    try {
      bytes = core.encodeMessage(msg).length;
    } catch {
      // sendNow itself reports it
    }
    write({ dir: 'out', peer, bytes, ...describe(msg) });
    return send.call(this, peer, msg);
  };
  const recv = proto.onFrame;
  proto.onFrame = function (peer, frame, link) {
    let d: Record<string, unknown> = { t: '?' };
    try {
      d = describe(core.decodeMessage(frame));
    } catch {
      // refused by the engine too
    }
    write({ dir: 'in', peer, bytes: frame.length, ...d });
    return recv.call(this, peer, frame, link);
  };
})().catch((err: unknown) => process.stderr.write(`frame-log: ${String(err)}\n`));
