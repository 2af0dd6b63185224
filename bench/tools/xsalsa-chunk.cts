/**
 * The proposed fix for the xsalsa20 crash, as a preload to try it without changing roam:
 * every XSalsa20 `update` is done in slices of at most 64 KiB (a multiple of the 64-byte block, so
 * the keystream is unchanged), so no update ever outgrows the cipher's initial 640 KiB WebAssembly
 * memory, the memory never grows, and no cipher's view of it ever goes stale (see pnet-limit.ts).
 *   npm run bench -- --only initial --roamd-node-args "--require $PWD/bench/dist/tools/xsalsa-chunk.cjs"
 * In roamd itself the same ten lines belong next to the polyfill, before libp2p loads.
 */

const SLICE = 64 * 1024;
type Update = (this: unknown, input: Uint8Array, output?: Uint8Array) => Uint8Array;
let XSalsa20: { prototype: { update: Update } } | null = null;
try {
  // The one copy @libp2p/pnet uses (hoisted to the repository's node_modules).
  XSalsa20 = require('xsalsa20');
} catch {
  // not installed here
}
if (XSalsa20) {
  const whole = XSalsa20.prototype.update;
  XSalsa20.prototype.update = function (input, output = new Uint8Array(input.length)) {
    if (input.length <= SLICE) return whole.call(this, input, output);
    for (let o = 0; o < input.length; o += SLICE) whole.call(this, input.subarray(o, o + SLICE), output.subarray(o, o + SLICE));
    return output;
  };
}
