/**
 * Evidence for W3's wire figure: encodes, with roam's own codec, the messages one appended line
 * causes (as the replicator emits them: the `index` entry A announces, the `logData` that carries the
 * line to the subscribed peer, and the `index` entry B announces back after writing it) with
 * realistic values, and prints their sizes.
 *   node bench/dist/tools/frame-sizes.js [lineBytes]
 */
import { createHash } from 'node:crypto';
import { encodeMessage, type ItemMeta, type Message } from '@roam/core';

const lineBytes = Number(process.argv[2] ?? 1007);
// The wire name: a project travels under its canonical name (project-names.ts), here the encoded
// path of the directory the local key -home-dev-code-big-project stands for (10 B longer).
const name = '=%2Fhome%2Fdev%2Fcode%2Fbig-project/0b1d5e55-4c0f-4d6a-9a1e-2f0e5c1b7a01.jsonl';
const h = (s: string) => new Uint8Array(createHash('sha256').update(s).digest());
const A = '0123456789abcdef';
const B = 'fedcba9876543210';
const size = 104_857_600;
const item = (by: string, seq: number): ItemMeta => ({
  name, kind: 'log', deleted: false, size: size + lineBytes, lines: 61_234, hash: h('end'), mtimeMs: 1_763_712_000_123.456, mode: 0o644,
  version: { [A]: 1 }, seq, modifiedBy: by,
});
const msgs: Array<[string, Message]> = [
  ['A→B index (A announces the new end of the log)', { t: 'index', folder: 'claude', indexId: A, items: [item(A, 2)], upTo: 2 }],
  ['A→B logData (the line, to the subscribed peer)', { t: 'logData', folder: 'claude', name, wantId: 1, version: { [A]: 1 }, start: { offset: size, line: 61_233, hash: h('start') }, chunk: 0, data: new Uint8Array(lineBytes), end: { offset: size + lineBytes, line: 61_234, hash: h('end') }, mtimeMs: 1_763_712_000_123.456 }],
  ['B→A index (B announces it holds the new end)', { t: 'index', folder: 'claude', indexId: B, items: [item(A, 2)], upTo: 2 }],
];
let total = 0;
for (const [label, m] of msgs) {
  const n = encodeMessage(m).length;
  total += n;
  process.stdout.write(`${String(n).padStart(6)} B  ${label}${m.t === 'logData' ? ` (${n - lineBytes} B besides the line)` : ''}\n`);
}
process.stdout.write(`${String(total).padStart(6)} B  payload in all for a ${lineBytes} B line (${total - lineBytes} B of protocol)\n`);
