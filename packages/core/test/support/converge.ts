/**
 * The convergence scenario shared by the property tests: N engines, random operations, then a
 * final run to quiescence and the checks (identical folders, nothing lost, duplicated or torn).
 */
import fc from 'fast-check';
import { expect } from 'vitest';
import { utf8, concatBytes } from '../../src/bytes.js';
import { decodeMessage } from '../../src/protocol/index.js';
import type { FolderConfig } from '../../src/replication/replicator.js';
import { MemoryNetwork } from '../../src/testing/index.js';
import { runNetOp, type NetOp } from './net-ops.js';

export const FILES = ['s/a.jsonl', 's/b.jsonl', 'c.jsonl'];
/** A whole file (not a line log) that any device rewrites: concurrent writers make conflict copies. */
export const WHOLE = 's/tool-results/r.txt';

export type Op =
  | { op: 'append'; dev: number; file: number; lines: string[] }
  | { op: 'partial'; dev: number; file: number; text: string }
  | { op: 'complete'; dev: number; file: number }
  | { op: 'write'; dev: number; text: string }
  | NetOp;

// Line content: JSON-ish text plus CR, non-ASCII and the odd invalid UTF-8 byte via \uFFFD-free escapes.
const lineText = fc.string({ unit: fc.constantFrom('a', 'b', '{', '"', ' ', '\r', 'é', '😀', 'x'), minLength: 0, maxLength: 12 });

const opArb = (devices: number): fc.Arbitrary<Op> =>
  fc.oneof(
    { weight: 4, arbitrary: fc.record({ op: fc.constant('append' as const), dev: fc.nat(devices - 1), file: fc.nat(FILES.length - 1), lines: fc.array(lineText, { minLength: 1, maxLength: 3 }) }) },
    { weight: 1, arbitrary: fc.record({ op: fc.constant('partial' as const), dev: fc.nat(devices - 1), file: fc.nat(FILES.length - 1), text: lineText }) },
    { weight: 1, arbitrary: fc.record({ op: fc.constant('complete' as const), dev: fc.nat(devices - 1), file: fc.nat(FILES.length - 1) }) },
    { weight: 1, arbitrary: fc.record({ op: fc.constant('write' as const), dev: fc.nat(devices - 1), text: lineText }) },
    { weight: 6, arbitrary: fc.record({ op: fc.constant('deliver' as const), count: fc.integer({ min: 1, max: 8 }), picks: fc.array(fc.nat(50), { minLength: 8, maxLength: 8 }) }) },
    { weight: 1, arbitrary: fc.record({ op: fc.constant('toggle' as const), a: fc.nat(devices - 1), b: fc.nat(devices - 1) }) },
  );

export const scenarioArb = fc.integer({ min: 2, max: 5 }).chain((devices) =>
  fc.record({
    devices: fc.constant(devices),
    ops: fc.array(opArb(devices), { minLength: 5, maxLength: 60 }),
    finalPicks: fc.array(fc.nat(50), { minLength: 1, maxLength: 20 }),
    // Per device and file: whether a partial line still pending at the end is never completed (its tool was killed).
    abandon: fc.array(fc.boolean(), { minLength: 5 * FILES.length, maxLength: 5 * FILES.length }),
  }),
);

function splitLines(b: Uint8Array): Uint8Array[] {
  const out: Uint8Array[] = [];
  let from = 0;
  for (let i = 0; i < b.length; i++) {
    if (b[i] === 0x0a) {
      out.push(b.subarray(from, i + 1));
      from = i + 1;
    }
  }
  if (from < b.length) out.push(b.subarray(from));
  return out;
}

const dec = new TextDecoder();

export async function runScenario(mode: FolderConfig['conflict'], s: { devices: number; ops: Op[]; finalPicks: number[]; abandon?: boolean[] }, trace = false) {
  const folders: FolderConfig[] = [{ id: 'claude', conflict: mode, logDeletes: 'local' }];
  const net = new MemoryNetwork();
  const ids = Array.from({ length: s.devices }, (_, i) => MemoryNetwork.deviceId(i));
  for (const id of ids) await net.add(id, folders, { checkpointInterval: 64 });
  for (let i = 0; i < ids.length; i++) for (let j = i + 1; j < ids.length; j++) await net.connect(ids[i]!, ids[j]!);

  // A partial line never crosses the wire: every logData frame ends with a complete line or is a
  // non-final chunk of one run.
  net.onFrame.push((_from, _to, frame) => {
    const m = decodeMessage(frame);
    if (m.t === 'logData' && m.end !== null) expect(m.data[m.data.length - 1]).toBe(0x0a);
  });

  if (trace) {
    net.onFrame.push((from, to, frame) => {
      const m = decodeMessage(frame) as { t: string; name?: string; items?: Array<{ name: string; size: number; version: object }> };
      console.log(`${from.slice(-1)}->${to.slice(-1)} ${m.t} ${m.name ?? ''} ${m.items?.map((x) => `${x.name}:${x.size}:${JSON.stringify(x.version)}`).join(',') ?? ''}`);
    });
  }
  const written = new Set<string>();
  // Whole-file contents (also in `written`, as each is one line) that a later write replaced on
  // the device that made it: only those may be missing at the end.
  const replaced = new Set<string>();
  const partial = new Map<string, string>(); // `${dev}:${file}` → pending text
  let counter = 0;
  const store = (dev: number) => net.nodes.get(ids[dev]!)!.stores.get('claude')!;
  const engine = (dev: number) => net.nodes.get(ids[dev]!)!.engine;

  const checkInvariants = () => {
    for (let d = 0; d < ids.length; d++) {
      for (const [name, data] of store(d).files()) {
        const lines = splitLines(data);
        const own = partial.get(`${d}:${FILES.indexOf(name)}`);
        lines.forEach((line, i) => {
          const text = dec.decode(line);
          if (i === lines.length - 1 && line[line.length - 1] !== 0x0a) {
            // Only the device whose tool is writing it may hold a partial line.
            expect(own, `device ${d} holds a partial line in ${name} it did not write`).toBeDefined();
            expect(text.endsWith(own!)).toBe(true);
          } else {
            expect(written.has(text), `torn or unknown line ${JSON.stringify(text)} in ${name} on ${d}`).toBe(true);
          }
        });
      }
    }
  };

  const completeLine = async (dev: number, file: number) => {
    const k = `${dev}:${file}`;
    const p = partial.get(k);
    if (p === undefined) return;
    written.add(`${partial.get(k)}\n`);
    partial.delete(k);
    store(dev).toolAppend(FILES[file]!, utf8.encode('\n'));
    await engine(dev).scan('claude', [FILES[file]!]);
  };

  for (const op of s.ops) {
    if (trace) console.log('op', JSON.stringify(op));
    switch (op.op) {
      case 'append': {
        const k = `${op.dev}:${op.file}`;
        if (partial.has(k)) {
          await completeLine(op.dev, op.file);
        }
        const text = op.lines.map((l) => `{"n":${counter++},"d":${op.dev},"t":"${l}"}\n`);
        text.forEach((t) => written.add(t));
        store(op.dev).toolAppend(FILES[op.file]!, concatBytes(text.map((t) => utf8.encode(t))));
        await engine(op.dev).scan('claude', [FILES[op.file]!]);
        break;
      }
      case 'partial': {
        const k = `${op.dev}:${op.file}`;
        if (partial.has(k)) break;
        const text = `{"n":${counter++},"d":${op.dev},"p":"${op.text}`;
        partial.set(k, text);
        store(op.dev).toolAppend(FILES[op.file]!, utf8.encode(text));
        await engine(op.dev).scan('claude', [FILES[op.file]!]);
        break;
      }
      case 'complete':
        await completeLine(op.dev, op.file);
        break;
      case 'write': {
        const old = store(op.dev).files().get(WHOLE);
        if (old) replaced.add(dec.decode(old));
        const text = `{"n":${counter++},"d":${op.dev},"w":"${op.text}"}\n`;
        written.add(text);
        store(op.dev).toolWrite(WHOLE, utf8.encode(text), { replace: true });
        await engine(op.dev).scan('claude', [WHOLE]);
        break;
      }
      case 'deliver':
      case 'toggle':
        await runNetOp(net, ids, op);
        break;
    }
    checkInvariants();
  }

  // Finish: complete every partial line but the abandoned ones, join everyone, run until nothing
  // is in flight. An abandoned line is past the bound by then (docs/PROTOCOL.md, "Partial last
  // lines"): where it held up a peer's lines, it went to its device's trash.
  const abandoned = new Map<string, string>();
  for (const k of [...partial.keys()]) {
    const [d, f] = k.split(':').map(Number);
    if (s.abandon?.[d! * FILES.length + f!]) abandoned.set(k, partial.get(k)!);
    else await completeLine(d!, f!);
  }
  if (abandoned.size) net.clock.advance(24 * 3600_000);
  for (let i = 0; i < ids.length; i++) for (let j = i + 1; j < ids.length; j++) await net.connect(ids[i]!, ids[j]!);
  let i = 0;
  await net.run((n) => s.finalPicks[i++ % s.finalPicks.length]! % n);
  for (let round = 0; round < 2 && abandoned.size; round++) {
    for (const id of ids) await net.nodes.get(id)!.engine.checkPartialTails();
    await net.run((n) => s.finalPicks[i++ % s.finalPicks.length]! % n);
  }
  checkInvariants();
  for (const [k, text] of abandoned) {
    const [d, f] = k.split(':').map(Number);
    const data = store(d!).files().get(FILES[f!]!);
    if (data && dec.decode(data).endsWith(text)) continue; // it held up nothing: still there
    const kept = store(d!).trash.filter((t) => t.name === `${FILES[f!]}.partial` && dec.decode(t.data) === text);
    expect(kept.length, `device ${d}'s abandoned partial line ${JSON.stringify(text)} in ${FILES[f!]} is in its trash`).toBe(1);
  }
  /** A device's files, but for an abandoned partial line it still holds (and a log left empty by that). */
  const settled = (d: number) => {
    const files = store(d).files();
    for (const [k, text] of abandoned) {
      const [dd, f] = k.split(':').map(Number);
      const data = files.get(FILES[f!]!);
      if (dd === d && data && dec.decode(data).endsWith(text)) files.set(FILES[f!]!, data.subarray(0, data.length - utf8.encode(text).length));
    }
    for (const [name, data] of files) if (data.length === 0 && abandoned.size) files.delete(name);
    return files;
  };

  if (trace) {
    for (let d = 0; d < ids.length; d++) {
      console.log(`device ${d}`, [...store(d).files()].map(([n, b]) => `${n}=${JSON.stringify(dec.decode(b))}`), net.nodes.get(ids[d]!)!.log);
    }
  }
  const reference = settled(0);
  for (let d = 1; d < ids.length; d++) {
    const files = settled(d);
    expect([...files.keys()], `file names on device ${d}`).toEqual([...reference.keys()]);
    for (const [name, data] of reference) expect(Buffer.from(files.get(name)!).equals(Buffer.from(data)), `${name} on device ${d}`).toBe(true);
  }
  const seen = new Set<string>();
  for (const [name, data] of reference) {
    const lines = splitLines(data).map((l) => dec.decode(l));
    expect(new Set(lines).size, `a line appears twice in ${name}`).toBe(lines.length);
    lines.forEach((l) => seen.add(l));
  }
  for (const w of written) if (!replaced.has(w)) expect(seen.has(w), `line lost: ${w}`).toBe(true);
  for (const node of net.nodes.values()) await node.engine.close();
  return net;
}

