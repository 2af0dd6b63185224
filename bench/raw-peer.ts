/**
 * The raw-stream reference of the initial-sync benchmark: the same libp2p stack as roamd (TCP, Noise,
 * yamux with a 4 MiB stream window, a pnet private network) carrying the corpus's bytes over one
 * stream and nothing else: no index, no hashing, no protocol.
 *
 *   node raw-peer.js send --dir <corpus> --list <manifest.json>   prints "listening <multiaddr>"
 *   node raw-peer.js recv --dir <dest> --peer <multiaddr>         prints "done <bytes> cpu <ms>", exits
 *
 * The receiver opens the stream; the sender then writes, for every file of the manifest, a header
 * (u32 length + JSON {path, size}) and the file's bytes read from disk in 64 KiB chunks, waiting for
 * the stream's `drain` event whenever `send` says so; a header with an empty path ends the stream.
 * The receiver writes each file to disk and fsyncs it before closing (roam and Syncthing make their
 * files durable too). PSK: the 64 hex characters in RAW_PSK.
 *
 * Like roamd, it runs roam's own private network (packages/cli/src/pairing/pnet.ts: @libp2p/pnet's
 * wire with libsodium's XSalsa20). RAW_PNET=libp2p runs @libp2p/pnet itself (its WebAssembly
 * XSalsa20, fed in 64 KiB slices by roam's guard, packages/cli/src/pairing/xsalsa-guard.ts: without
 * it the reference dies of the xsalsa20 WebAssembly-memory leak on large corpora, tools/pnet-limit.ts),
 * to measure one against the other.
 */
import './polyfill.js';
import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, readSync, writeSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { noise } from '@chainsafe/libp2p-noise';
import { yamux } from '@chainsafe/libp2p-yamux';
import type { ConnectionProtector, Stream } from '@libp2p/interface';
import { preSharedKey } from '@libp2p/pnet';
import { tcp } from '@libp2p/tcp';
import { multiaddr } from '@multiformats/multiaddr';
import { createLibp2p } from 'libp2p';

const PROTOCOL = '/roam-bench/raw/1.0.0';
const CHUNK = 64 * 1024;
const STREAM_WINDOW = 4 * 1024 * 1024;

// roamd's pnet and guard, from the built CLI (bench/dist/raw-peer.js → the repository root is two levels up).
const pairing = path.join(path.dirname(new URL(import.meta.url).pathname), '..', '..', 'packages', 'cli', 'dist', 'pairing');
if (!((await import(pathToFileURL(path.join(pairing, 'xsalsa-guard.js')).href)) as { xsalsaGuarded: boolean }).xsalsaGuarded) throw new Error('raw-peer: roam\'s xsalsa20 guard did not install');
const roamPnet = (await import(pathToFileURL(path.join(pairing, 'pnet.js')).href)) as { pnet: (key: Uint8Array) => () => ConnectionProtector };

const [mode, ...rest] = process.argv.slice(2);
const opt = (name: string): string => {
  const i = rest.indexOf(`--${name}`);
  if (i < 0 || rest[i + 1] === undefined) throw new Error(`raw-peer: --${name} is required`);
  return rest[i + 1]!;
};

const pskHex = process.env.RAW_PSK ?? 'b3'.repeat(32);
const psk = new TextEncoder().encode(`/key/swarm/psk/1.0.0/\n/base16/\n${pskHex}`);

async function node(listen: string[]) {
  return createLibp2p({
    addresses: { listen },
    transports: [tcp()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux({ streamOptions: { maxStreamWindowSize: STREAM_WINDOW, maxReadBufferLength: 2 * STREAM_WINDOW + CHUNK * 4 } })],
    connectionProtector: process.env.RAW_PNET === 'libp2p' ? preSharedKey({ psk }) : roamPnet.pnet(Buffer.from(pskHex, 'hex')),
    services: {},
  });
}

function waitDrain(stream: Stream): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      stream.removeEventListener('drain', done);
      stream.removeEventListener('close', done);
      resolve();
    };
    stream.addEventListener('drain', done);
    stream.addEventListener('close', done);
  });
}

async function send(): Promise<void> {
  const dir = opt('dir');
  const files = (JSON.parse(readFileSync(opt('list'), 'utf8')) as { files: Array<{ path: string; size: number }> }).files;
  const n = await node(['/ip4/127.0.0.1/tcp/0']);
  await n.handle(PROTOCOL, async (stream) => {
    const put = async (b: Uint8Array) => {
      if (!stream.send(b)) await waitDrain(stream);
    };
    const header = (p: string, size: number) => {
      const json = Buffer.from(JSON.stringify({ path: p, size }));
      const h = Buffer.alloc(4 + json.length);
      h.writeUInt32BE(json.length, 0);
      json.copy(h, 4);
      return h;
    };
    for (const f of files) {
      await put(header(f.path, f.size));
      const fd = openSync(path.join(dir, f.path), 'r');
      try {
        let left = f.size;
        while (left > 0) {
          const buf = Buffer.allocUnsafe(Math.min(CHUNK, left));
          const got = readSync(fd, buf, 0, buf.length, null);
          if (got <= 0) throw new Error(`${f.path}: short read`);
          left -= got;
          await put(got === buf.length ? buf : buf.subarray(0, got));
        }
      } finally {
        closeSync(fd);
      }
    }
    await put(header('', 0));
    await stream.close();
  });
  await n.start();
  const addr = n.getMultiaddrs()[0]!.toString();
  process.stdout.write(`listening ${addr}\n`);
  await new Promise<void>((resolve) => process.once('SIGTERM', () => resolve()));
  await n.stop();
}

async function recv(): Promise<void> {
  const dir = opt('dir');
  const n = await node([]);
  await n.start();
  const stream = await n.dialProtocol(multiaddr(opt('peer')), PROTOCOL);
  let pending: Buffer = Buffer.alloc(0);
  let fd = -1;
  let left = 0;
  let total = 0;
  let finished = false;
  const made = new Set<string>();
  const closeFile = () => {
    if (fd >= 0) {
      fsyncSync(fd);
      closeSync(fd);
      fd = -1;
    }
  };
  for await (const chunk of stream) {
    const bytes = chunk instanceof Uint8Array ? chunk : chunk.subarray();
    let buf = pending.length ? Buffer.concat([pending, bytes]) : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    pending = Buffer.alloc(0);
    while (buf.length > 0) {
      if (fd >= 0) {
        const n2 = Math.min(left, buf.length);
        writeSync(fd, buf, 0, n2);
        total += n2;
        left -= n2;
        buf = buf.subarray(n2);
        if (left === 0) closeFile();
        continue;
      }
      if (buf.length < 4 || buf.length < 4 + buf.readUInt32BE(0)) {
        pending = Buffer.from(buf);
        break;
      }
      const len = buf.readUInt32BE(0);
      const h = JSON.parse(buf.subarray(4, 4 + len).toString('utf8')) as { path: string; size: number };
      buf = buf.subarray(4 + len);
      if (h.path === '') {
        finished = true;
        break;
      }
      const p = path.join(dir, h.path);
      const parent = path.dirname(p);
      if (!made.has(parent)) {
        mkdirSync(parent, { recursive: true });
        made.add(parent);
      }
      fd = openSync(p, 'w');
      left = h.size;
      if (left === 0) closeFile();
    }
    if (finished) break;
  }
  closeFile();
  if (!finished) throw new Error('raw-peer: the stream ended early');
  const cpu = process.cpuUsage();
  process.stdout.write(`done ${total} cpu ${Math.round((cpu.user + cpu.system) / 1000)}\n`);
  await stream.close().catch(() => undefined);
  await n.stop();
}

(mode === 'send' ? send() : mode === 'recv' ? recv() : Promise.reject(new Error('usage: raw-peer.js send|recv …'))).then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`raw-peer: ${err instanceof Error ? err.stack : String(err)}\n`);
    process.exit(1);
  },
);
