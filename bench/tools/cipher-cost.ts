/**
 * CPU cost per byte of each cipher the raw stream (and roamd's links) run, and of the candidates
 * that could replace them: measured in CPU time of this process (process.cpuUsage), not wall clock,
 * so a busy machine shifts the figures less; every cipher runs in each round, alternating.
 *   node bench/dist/tools/cipher-cost.js [--mib 64] [--rounds 5] [--chunk 65536] [--json]
 * - pnet xsalsa20 (WASM, package `xsalsa20` as @libp2p/pnet uses it, fed in 64 KiB slices by
 *   roam's guard): the private network's stream cipher, every byte once each way.
 * - libsodium's xsalsa20 (sodium-native, what roam's pnet.ts runs): the same keystream (checked here).
 * - @noble/ciphers xsalsa20 (pure JS): the same keystream (checked here), a drop-in candidate.
 * - Noise's ChaCha20-Poly1305 as @chainsafe/libp2p-noise runs it on Node (its `defaultCrypto`:
 *   node:crypto for records ≥ 1200 B, AssemblyScript below), per 65,519 B record (Noise's largest).
 * - libsodium's chacha20-poly1305 (IETF, as Noise's): a candidate for Noise's `crypto` option.
 * - node:crypto chacha20 (no MAC): what a native pnet would cost; NOT wire compatible (a protocol
 *   version, see ANALYSIS.md).
 * - node:crypto sha256: a yardstick (the receiver hashes every byte too).
 */
import { createCipheriv, createHash, randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

const args = process.argv.slice(2);
const arg = (name: string, dflt: number): number => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : dflt;
};
const MIB = arg('mib', 64);
const ROUNDS = arg('rounds', 5);
const CHUNK = arg('chunk', 64 * 1024);

// roam's guard, as roamd loads it (bench/dist/tools → the repository root is three levels up).
const root = path.join(path.dirname(new URL(import.meta.url).pathname), '..', '..', '..');
await import(pathToFileURL(path.join(root, 'packages', 'cli', 'dist', 'pairing', 'xsalsa-guard.js')).href);
const fromPnet = createRequire(import.meta.resolve('@libp2p/pnet'));
const xsalsa20 = fromPnet('xsalsa20') as (nonce: Uint8Array, key: Uint8Array) => { update(input: Uint8Array, out?: Uint8Array): Uint8Array };
const nobleSalsa = (await import('@noble/ciphers/salsa.js' as string)) as {
  xsalsa20: (key: Uint8Array, nonce: Uint8Array, data: Uint8Array, output?: Uint8Array, counter?: number) => Uint8Array;
};
const noiseCrypto = (await import(new URL('crypto/index.js', import.meta.resolve('@chainsafe/libp2p-noise')).href)) as {
  defaultCrypto: { chaCha20Poly1305Encrypt(p: Uint8Array, n: Uint8Array, ad: Uint8Array, k: Uint8Array): Uint8Array };
};

interface Sodium {
  crypto_stream_xor_STATEBYTES: number;
  crypto_stream_xor_init(state: Buffer, nonce: Uint8Array, key: Uint8Array): void;
  crypto_stream_xor_update(state: Buffer, output: Uint8Array, input: Uint8Array): void;
  crypto_aead_chacha20poly1305_ietf_encrypt(c: Uint8Array, m: Uint8Array, ad: Uint8Array | null, nsec: null, npub: Uint8Array, k: Uint8Array): number;
}
const sodium = createRequire(pathToFileURL(path.join(root, 'packages', 'cli', 'package.json')).href)('sodium-native') as Sodium;

const key = randomBytes(32);
const nonce = randomBytes(24);
const data = randomBytes(CHUNK);
const total = MIB * 1024 * 1024;

// The noble candidate must give pnet's keystream (a continuing stream: counter in 64-byte blocks).
{
  const a = xsalsa20(nonce, key);
  const first = a.update(data);
  const second = a.update(data);
  const n1 = nobleSalsa.xsalsa20(key, nonce, data);
  const n2 = nobleSalsa.xsalsa20(key, nonce, data, undefined, CHUNK / 64);
  if (!Buffer.from(first).equals(Buffer.from(n1)) || !Buffer.from(second).equals(Buffer.from(n2))) throw new Error('noble xsalsa20 differs from pnet\'s keystream');
  const st = Buffer.alloc(sodium.crypto_stream_xor_STATEBYTES);
  sodium.crypto_stream_xor_init(st, nonce, key);
  const s1 = Buffer.alloc(CHUNK);
  const s2 = Buffer.alloc(CHUNK);
  sodium.crypto_stream_xor_update(st, s1, data);
  sodium.crypto_stream_xor_update(st, s2, data);
  if (!Buffer.from(first).equals(s1) || !Buffer.from(second).equals(s2)) throw new Error('libsodium xsalsa20 differs from pnet\'s keystream');
}

const cases: Record<string, () => void> = {
  'pnet xsalsa20 (WASM, guarded)': () => {
    const c = xsalsa20(nonce, key);
    for (let o = 0; o < total; o += CHUNK) c.update(data);
  },
  'libsodium xsalsa20 (sodium-native, roam\'s pnet)': () => {
    const st = Buffer.alloc(sodium.crypto_stream_xor_STATEBYTES);
    sodium.crypto_stream_xor_init(st, nonce, key);
    for (let o = 0; o < total; o += CHUNK) sodium.crypto_stream_xor_update(st, Buffer.allocUnsafe(CHUNK), data);
  },
  '@noble/ciphers xsalsa20 (JS)': () => {
    const out = new Uint8Array(CHUNK);
    let counter = 0;
    for (let o = 0; o < total; o += CHUNK) {
      nobleSalsa.xsalsa20(key, nonce, data, out, counter);
      counter += CHUNK / 64;
    }
  },
  'Noise chacha20-poly1305 (node:crypto, 65,519 B records)': () => {
    const rec = data.subarray(0, Math.min(65519, CHUNK));
    const n = new Uint8Array(12);
    for (let o = 0; o < total; o += rec.length) noiseCrypto.defaultCrypto.chaCha20Poly1305Encrypt(rec, n, new Uint8Array(0), key);
  },
  'libsodium chacha20-poly1305 (65,519 B records)': () => {
    const rec = data.subarray(0, Math.min(65519, CHUNK));
    const n = new Uint8Array(12);
    for (let o = 0; o < total; o += rec.length) sodium.crypto_aead_chacha20poly1305_ietf_encrypt(Buffer.allocUnsafe(rec.length + 16), rec, null, null, n, key);
  },
  'node:crypto chacha20 (native, not pnet\'s wire)': () => {
    const c = createCipheriv('chacha20', key, nonce.subarray(0, 16));
    for (let o = 0; o < total; o += CHUNK) c.update(data);
  },
  'node:crypto sha256 (yardstick)': () => {
    const h = createHash('sha256');
    for (let o = 0; o < total; o += CHUNK) h.update(data);
    h.digest();
  },
};

const samples = new Map<string, number[]>(Object.keys(cases).map((k) => [k, []]));
for (let r = 0; r < ROUNDS; r++) {
  for (const [name, run] of Object.entries(cases)) {
    const before = process.cpuUsage();
    run();
    const used = process.cpuUsage(before);
    samples.get(name)!.push((used.user + used.system) / 1000);
  }
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const rows = [...samples].map(([name, ms]) => ({ name, cpuMsPerMiB: median(ms) / MIB, mibPerCpuS: (MIB * 1000) / median(ms), samplesMs: ms.map((x) => Math.round(x)) }));
if (args.includes('--json')) process.stdout.write(`${JSON.stringify({ mib: MIB, rounds: ROUNDS, chunk: CHUNK, rows }, null, 2)}\n`);
else {
  process.stdout.write(`${MIB} MiB per case, ${ROUNDS} rounds, ${CHUNK} B updates; CPU time, median\n`);
  for (const r of rows) process.stdout.write(`${r.name.padEnd(58)} ${r.cpuMsPerMiB.toFixed(2).padStart(7)} ms/MiB  ${r.mibPerCpuS.toFixed(0).padStart(5)} MiB/CPU-s  [${r.samplesMs.join(' ')}]\n`);
}
