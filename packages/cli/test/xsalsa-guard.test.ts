import { createRequire } from 'node:module';
import { spawnSync } from 'node:child_process';
import { xsalsa20 as nobleXsalsa20 } from '@noble/ciphers/salsa.js';
import { describe, expect, it } from 'vitest';
import { xsalsaGuarded } from '../src/pairing/xsalsa-guard.js';

const MiB = 1 << 20;
type Cipher = { update(input: Uint8Array): Uint8Array };
const load = () => createRequire(import.meta.resolve('@libp2p/pnet'))('xsalsa20') as (n: Uint8Array, k: Uint8Array) => Cipher;

/** Built by `tsc -b` before the tests run. */
const GUARD = new URL('../dist/pairing/xsalsa-guard.js', import.meta.url).href;

/** The scenario that killed roamd: one large update, then many switches between two ciphers. */
const SCRIPT = (guard: boolean) => `
${guard ? `await import(${JSON.stringify(GUARD)});` : ''}
const { createRequire } = await import('node:module');
const xs = createRequire(import.meta.resolve('@libp2p/pnet'))('xsalsa20');
const a = xs(new Uint8Array(24), new Uint8Array(32)), b = xs(new Uint8Array(24).fill(1), new Uint8Array(32));
a.update(new Uint8Array(${2 * MiB}));
for (let i = 0; i < 20000; i++) { a.update(new Uint8Array(100)); b.update(new Uint8Array(100)); }
console.log('survived');
`;

describe('xsalsa20 guard (@libp2p/pnet cipher)', () => {
  it('is installed', () => expect(xsalsaGuarded).toBe(true));

  it('keeps the keystream identical to an independent XSalsa20 across slice boundaries', () => {
    const key = Uint8Array.from({ length: 32 }, (_, i) => i * 7);
    const nonce = Uint8Array.from({ length: 24 }, (_, i) => 255 - i);
    const sizes = [3 * MiB + 17, 1, 63, 65, 64 * 1024 + 1, 200_000, 5];
    const total = sizes.reduce((s, n) => s + n, 0);
    const plain = Uint8Array.from({ length: total }, (_, i) => (i * 31) & 255);
    const c = load()(nonce, key);
    const got = new Uint8Array(total);
    let o = 0;
    for (const n of sizes) {
      got.set(c.update(plain.subarray(o, o + n)), o);
      o += n;
    }
    const want = nobleXsalsa20(key, nonce, plain);
    expect(Buffer.compare(Buffer.from(got), Buffer.from(want))).toBe(0);
  });

  // Each in its own process: the cipher's memory is per process. Without the guard the scenario
  // must crash (so this test shows the guard is what saves it), with it the process survives.
  it('stops the WebAssembly memory from running out after a large update', () => {
    const run = (guard: boolean) =>
      spawnSync(process.execPath, ['--input-type=module', '-e', SCRIPT(guard)], { encoding: 'utf8', timeout: 60_000, cwd: new URL('..', import.meta.url) });
    const bare = run(false);
    expect(bare.status).not.toBe(0);
    expect(bare.stderr).toMatch(/Maximum memory size exceeded/);
    const guarded = run(true);
    expect(guarded.stderr).toBe('');
    expect(guarded.stdout.trim()).toBe('survived');
  }, 120_000);
});
