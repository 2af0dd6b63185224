/**
 * Keeps @libp2p/pnet's cipher from killing the daemon.
 *
 * @libp2p/pnet encrypts with the `xsalsa20` package (1.2.0), which keeps ONE WebAssembly memory for
 * every cipher in the process (640 KiB at first, 62.5 MiB at most). A cipher grows that memory when
 * an update does not fit in ITS view of it; growing detaches every other cipher's view, whose length
 * then reads 0, so each later update through another cipher grows the memory again, whatever its
 * size. Once one update has been larger than ~640 KiB (pnet hands the cipher a connection's whole
 * queued output), a few hundred request/answer switches exhaust the memory and the next update throws
 * `RangeError: WebAssembly.Memory.grow(): Maximum memory size exceeded` inside a socket handler:
 * roamd died during the first large initial sync (bench W2).
 *
 * The guard feeds every update to the cipher in slices of at most 64 KiB. Slices are a multiple of
 * the 64-byte Salsa20 block, so the keystream (and the bytes on the wire) are exactly the same; the
 * memory is never grown, so no view goes stale. Imported for its effect before @libp2p/pnet runs.
 */
import { createRequire } from 'node:module';

export const XSALSA_SLICE = 64 * 1024;

type Update = (this: unknown, input: Uint8Array, output?: Uint8Array) => Uint8Array;
interface XSalsa20Module {
  prototype: { update: Update; __roamSliced?: true };
}

function install(): boolean {
  // The copy @libp2p/pnet itself resolves (CommonJS: one cached instance per file).
  const fromPnet = createRequire(import.meta.resolve('@libp2p/pnet'));
  const mod = fromPnet('xsalsa20') as XSalsa20Module;
  const proto = mod.prototype;
  if (proto.__roamSliced) return true;
  const whole = proto.update;
  proto.update = function sliced(this: unknown, input: Uint8Array, output?: Uint8Array): Uint8Array {
    if (input.length <= XSALSA_SLICE) return whole.call(this, input, output);
    const out = output ?? new Uint8Array(input.length);
    for (let o = 0; o < input.length; o += XSALSA_SLICE) {
      whole.call(this, input.subarray(o, o + XSALSA_SLICE), out.subarray(o, o + XSALSA_SLICE));
    }
    return out;
  };
  Object.defineProperty(proto, '__roamSliced', { value: true });
  return true;
}

export const xsalsaGuarded = install();
