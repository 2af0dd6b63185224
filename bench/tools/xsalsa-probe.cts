/**
 * A diagnostic preload for roamd (not used by the benchmarks themselves): records how @libp2p/pnet
 * uses xsalsa20 in a running daemon — the largest single `update`, and how many updates found their
 * view of the shared WebAssembly memory too small (each one grows the memory) — and writes it to
 * /tmp/xsalsa-probe-<pid>.json on exit and every 2 s.
 *   npm run bench -- --only initial --roamd-node-args "--require $PWD/bench/dist/tools/xsalsa-probe.cjs"
 */
import fs = require('node:fs');

let XSalsa20: { prototype: { update(this: { _xor: { _memory?: Uint8Array } | null }, input: Uint8Array, output?: Uint8Array): Uint8Array } } | null = null;
try {
  // The one copy @libp2p/pnet uses (hoisted to the repository's node_modules).
  XSalsa20 = require('xsalsa20');
} catch {
  // not resolvable from here: nothing to probe
}
const stats = { pid: process.pid, updates: 0, maxUpdate: 0, over640k: 0, grows: 0, memoryBytes: 0 };
if (XSalsa20) {
  const orig = XSalsa20.prototype.update;
  XSalsa20.prototype.update = function (input, output) {
    stats.updates++;
    if (input.length > stats.maxUpdate) stats.maxUpdate = input.length;
    if (input.length > 640 * 1024) stats.over640k++;
    const view = this._xor?._memory;
    if (view && 144 + input.length + 64 >= view.length) stats.grows++;
    const out = orig.call(this, input, output);
    const after = this._xor?._memory;
    if (after) stats.memoryBytes = after.buffer.byteLength;
    return out;
  };
}
const dump = () => fs.writeFileSync(`/tmp/xsalsa-probe-${process.pid}.json`, JSON.stringify(stats));
setInterval(dump, 2000).unref();
process.on('exit', dump);
