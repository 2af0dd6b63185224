/**
 * Evidence for the roamd crash seen in W2 (`RangeError: WebAssembly.Memory.grow(): Maximum memory
 * size exceeded` in xsalsa20, under @libp2p/pnet). xsalsa20 1.2.0 (used by @libp2p/pnet 3.0.27) keeps
 * ONE WebAssembly memory for every cipher in the process: 10 pages (640 KiB) at first, at most 1000
 * (62.5 MiB). A cipher grows it when an update does not fit in ITS view of the memory, by "needed −
 * its view's length". Growing detaches every other cipher's view (length 0), so once any update has
 * been larger than 640 KiB, every switch between two ciphers (a connection's inbound and outbound
 * ones: request, answer, request…) grows the memory by at least one more page, whatever the size:
 * the process dies after ~500 such switches. @libp2p/pnet hands the cipher whole buffers (a
 * connection's queued output in one `update`), so one large write is enough to start the leak.
 *   node bench/dist/tools/pnet-limit.js
 * Each scenario runs in its own process (the memory is per process).
 */
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
type Cipher = { update(input: Uint8Array): Uint8Array };
const xsalsa20 = require('xsalsa20') as (nonce: Uint8Array, key: Uint8Array) => Cipher;
const MiB = 1 << 20;
const make = () => xsalsa20(new Uint8Array(24), new Uint8Array(32));

const scenarios: Record<string, () => void> = {
  'two ciphers, 100 B updates alternating, 100,000 times': () => {
    const inbound = make();
    const outbound = make();
    for (let i = 0; i < 100_000; i++) {
      outbound.update(new Uint8Array(100));
      inbound.update(new Uint8Array(100));
    }
  },
  'the same after ONE 1 MiB update (crashes after ~500 switches)': () => {
    const inbound = make();
    const outbound = make();
    outbound.update(new Uint8Array(MiB));
    for (let i = 0; i < 100_000; i++) {
      try {
        outbound.update(new Uint8Array(100));
        inbound.update(new Uint8Array(100));
      } catch (err) {
        process.stderr.write(`after ${i} switches: ${(err as Error).name}: ${(err as Error).message}\n`);
        throw err;
      }
    }
  },
  'one cipher, one 60 MiB update': () => void make().update(new Uint8Array(60 * MiB)),
  'one cipher, one 63 MiB update': () => void make().update(new Uint8Array(63 * MiB)),
  'two ciphers (one connection: in + out), 32 MiB through each': () => {
    const inbound = make();
    const outbound = make();
    outbound.update(new Uint8Array(32 * MiB));
    inbound.update(new Uint8Array(32 * MiB)); // fits in the memory already there, but grows by 32 MiB more
  },
  'two ciphers, 20 MiB then 20 MiB then a 64 KiB chunk': () => {
    const inbound = make();
    const outbound = make();
    outbound.update(new Uint8Array(20 * MiB));
    inbound.update(new Uint8Array(20 * MiB));
    const third = make();
    outbound.update(new Uint8Array(40 * MiB));
    third.update(new Uint8Array(64 * 1024));
  },
};

const which = process.argv[2];
if (which !== undefined) {
  scenarios[which]!();
  process.exit(0);
}
for (const name of Object.keys(scenarios)) {
  const r = spawnSync(process.execPath, [fileURLToPath(import.meta.url), name], { encoding: 'utf8' });
  const err = /^(after \d+ switches: .*)$/m.exec(r.stderr)?.[1] ?? /(\w*Error: .*)/.exec(r.stderr)?.[1];
  process.stdout.write(`${r.status === 0 ? 'ok     ' : 'CRASH  '} ${name}${err ? `: ${err}` : ''}\n`);
}
