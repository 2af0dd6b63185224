/**
 * The union log scenario of the property tests: N devices, each with an engine syncing the
 * per-device logs (in memory) and a view (the tool's file, in memory) that its tool appends to,
 * kept by a `UnionView`; random prompts, partial lines, passes, crashes at any write, restarts,
 * reconnects and deliveries in any order. See docs/PROTOCOL.md, "Union logs".
 */
import fc from 'fast-check';
import { expect } from 'vitest';
import { concatBytes, utf8 } from '../../src/bytes.js';
import type { FolderConfig } from '../../src/replication/replicator.js';
import { MemoryNetwork, type MemoryStore } from '../../src/testing/index.js';
import { runNetOp, type NetOp } from './net-ops.js';
import { UnionView, type UnionLogs, type UnionMapper, type UnionState, type UnionViewFile } from '../../src/union/index.js';

export const FOLDER = 'claude-history';

export type UnionOp =
  | { op: 'prompt'; dev: number; texts: string[]; project: number }
  | { op: 'partial'; dev: number; text: string }
  | { op: 'complete'; dev: number }
  | { op: 'pass'; dev: number }
  /** The device's process dies at its `at`-th write of the union view from now: before it, after it, or half-way through it. */
  | { op: 'crash'; dev: number; at: number; how: 'before' | 'after' | 'torn' }
  | { op: 'restart'; dev: number }
  | NetOp;

const text = fc.string({ unit: fc.constantFrom('a', 'b', ' ', 'é', '😀', '\\', '"'), maxLength: 8 });

const opArb = (n: number): fc.Arbitrary<UnionOp> =>
  fc.oneof(
    { weight: 4, arbitrary: fc.record({ op: fc.constant('prompt' as const), dev: fc.nat(n - 1), texts: fc.array(text, { minLength: 1, maxLength: 3 }), project: fc.nat(2) }) },
    { weight: 1, arbitrary: fc.record({ op: fc.constant('partial' as const), dev: fc.nat(n - 1), text }) },
    { weight: 1, arbitrary: fc.record({ op: fc.constant('complete' as const), dev: fc.nat(n - 1) }) },
    { weight: 4, arbitrary: fc.record({ op: fc.constant('pass' as const), dev: fc.nat(n - 1) }) },
    { weight: 2, arbitrary: fc.record({ op: fc.constant('crash' as const), dev: fc.nat(n - 1), at: fc.nat(5), how: fc.constantFrom('before' as const, 'after' as const, 'torn' as const) }) },
    { weight: 1, arbitrary: fc.record({ op: fc.constant('restart' as const), dev: fc.nat(n - 1) }) },
    { weight: 5, arbitrary: fc.record({ op: fc.constant('deliver' as const), count: fc.integer({ min: 1, max: 8 }), picks: fc.array(fc.nat(50), { minLength: 8, maxLength: 8 }) }) },
    { weight: 1, arbitrary: fc.record({ op: fc.constant('toggle' as const), a: fc.nat(n - 1), b: fc.nat(n - 1) }) },
  );

export const unionScenarioArb = fc.integer({ min: 2, max: 5 }).chain((devices) =>
  fc.record({ devices: fc.constant(devices), ops: fc.array(opArb(devices), { minLength: 10, maxLength: 60, size: 'max' }), finalPicks: fc.array(fc.nat(50), { minLength: 1, maxLength: 20 }) }),
);

class Crash extends Error {}

/** A device's view, its tool's writes (never to be changed), and its durable union state. */
interface Device {
  view: Uint8Array;
  toolWrites: Array<{ at: number; bytes: Uint8Array }>;
  partial: string | null;
  saved: unknown;
  union: UnionView | null;
  /** Writes left before a crash (-1: none), and how it crashes. */
  crashIn: number;
  crashHow: 'before' | 'after' | 'torn';
}

const dec = new TextDecoder();
const home = (d: number) => `/h${d}`;
/** The mapping of a tool's adapter: this device's home ↔ `~`; a path elsewhere stays as it is. */
const mapperOf = (d: number): UnionMapper => ({
  toWire: (l) => utf8.encode(dec.decode(l).replaceAll(`"${home(d)}/`, '"~/')),
  toLocal: (l) => utf8.encode(dec.decode(l).replaceAll('"~/', `"${home(d)}/`)),
});

export async function runUnionScenario(s: { devices: number; ops: UnionOp[]; finalPicks: number[] }): Promise<void> {
  const folders: FolderConfig[] = [{ id: FOLDER, conflict: 'fork', logDeletes: 'local' }];
  const net = new MemoryNetwork();
  const ids = Array.from({ length: s.devices }, (_, i) => MemoryNetwork.deviceId(i));
  for (const id of ids) await net.add(id, folders, { checkpointInterval: 64 });
  for (let i = 0; i < ids.length; i++) for (let j = i + 1; j < ids.length; j++) await net.connect(ids[i]!, ids[j]!);
  const devs: Device[] = ids.map(() => ({ view: new Uint8Array(0), toolWrites: [], partial: null, saved: null, union: null, crashIn: -1, crashHow: 'before' }));
  const store = (d: number): MemoryStore => net.nodes.get(ids[d]!)!.stores.get(FOLDER)!;
  const own = (d: number) => `${ids[d]}.jsonl`;
  /** Per origin device, the lines (by number) its tool wrote, in order. */
  const written = ids.map(() => [] as number[]);
  let counter = 0;

  /** A write of the union view's: may crash before it, after it, or half-way through it. */
  const write = (dev: Device, act: (part?: 'half') => void, view = false): void => {
    if (dev.crashIn > 0) dev.crashIn--;
    else if (dev.crashIn === 0) {
      dev.crashIn = -1;
      if (dev.crashHow === 'after') act();
      if (dev.crashHow === 'torn') act('half');
      throw new Crash(dev.crashHow === 'torn' && view ? 'torn view' : 'crash');
    }
    act();
  };

  const open = async (d: number): Promise<UnionView> => {
    const dev = devs[d]!;
    const half = (b: Uint8Array, part?: 'half') => (part ? b.subarray(0, Math.max(1, b.length >> 1)) : b);
    const view: UnionViewFile = {
      size: async () => (dev.view.length || dev.toolWrites.length ? dev.view.length : null),
      read: async (o, n) => dev.view.slice(o, Math.min(dev.view.length, o + n)),
      append: async (data) => write(dev, (part) => (dev.view = concatBytes([dev.view, half(data, part)])), true),
    };
    const logs: UnionLogs = {
      origins: () => [...store(d).disk.keys()].filter((n) => n !== own(d) && n.endsWith('.jsonl')).map((n) => n.slice(0, -6)),
      size: (o) => store(d).stat(`${o}.jsonl`)?.size ?? 0,
      read: (o, off, n) => store(d).read(`${o}.jsonl`, off, n),
      ownSize: async () => store(d).disk.get(own(d))?.data.length ?? 0,
      appendOwn: async (data) => write(dev, (part) => store(d).toolAppend(own(d), half(data, part))),
    };
    const state = { load: async () => dev.saved, save: async (st: UnionState) => write(dev, () => (dev.saved = structuredClone(st))) };
    return UnionView.open({ view, logs, mapper: mapperOf(d), state });
  };

  const toolAppend = (d: number, t: string) => {
    const dev = devs[d]!;
    const bytes = utf8.encode(t);
    dev.toolWrites.push({ at: dev.view.length, bytes });
    dev.view = concatBytes([dev.view, bytes]);
  };

  const pass = async (d: number): Promise<boolean> => {
    const dev = devs[d]!;
    dev.union ??= await open(d);
    let moved = false;
    try {
      const r = await dev.union.pass();
      moved = r.ingested + r.delivered > 0;
    } catch (err) {
      if (!(err instanceof Crash)) throw err;
      dev.union = null; // the process died: only `saved` and the files survive
      moved = true;
      // A torn append to the view (the machine went down mid-write) is finished by roamd's first
      // pass at start-up; a tool line written before that pass would join the torn one, as after
      // a torn write of the tool's own (docs/PROTOCOL.md, "Union logs").
      if (err.message === 'torn view') return pass(d);
    }
    await net.nodes.get(ids[d]!)!.engine.scan(FOLDER, [own(d)]);
    return moved;
  };

  const checkInvariants = () => {
    for (const dev of devs) {
      for (const w of dev.toolWrites) expect(dec.decode(dev.view.subarray(w.at, w.at + w.bytes.length)), 'what the tool wrote is never rewritten').toBe(dec.decode(w.bytes));
    }
  };

  for (const op of s.ops) {
    switch (op.op) {
      case 'prompt': {
        const dev = devs[op.dev]!;
        if (dev.partial !== null) {
          toolAppend(op.dev, '"}\n');
          dev.partial = null;
        }
        for (const t of op.texts) {
          const n = counter++;
          written[op.dev]!.push(n);
          // Project 2 is one not synced anywhere: its path is no home's and stays as it is.
          const project = op.project === 2 ? '/srv/other' : `${home(op.dev)}/p${op.project}`;
          toolAppend(op.dev, `${JSON.stringify({ n, d: op.dev, project, t })}\n`);
        }
        break;
      }
      case 'partial': {
        const dev = devs[op.dev]!;
        if (dev.partial !== null) break;
        const n = counter++;
        written[op.dev]!.push(n);
        // The line's text ends with `"}` once the tool completes it.
        dev.partial = JSON.stringify({ n, d: op.dev, project: `${home(op.dev)}/p0`, t: op.text }).slice(0, -2);
        toolAppend(op.dev, dev.partial);
        break;
      }
      case 'complete': {
        const dev = devs[op.dev]!;
        if (dev.partial === null) break;
        toolAppend(op.dev, '"}\n');
        dev.partial = null;
        break;
      }
      case 'pass':
        await pass(op.dev);
        break;
      case 'crash':
        // Armed: the device dies at its `at`-th write from now, in whichever pass that is.
        if (devs[op.dev]!.crashIn < 0) Object.assign(devs[op.dev]!, { crashIn: op.at, crashHow: op.how });
        await pass(op.dev);
        break;
      case 'restart': {
        devs[op.dev]!.union = null;
        const stores = await net.remove(ids[op.dev]!);
        await net.add(ids[op.dev]!, folders, { stores, checkpointInterval: 64 });
        break;
      }
      case 'deliver':
      case 'toggle':
        await runNetOp(net, ids, op);
        break;
    }
    checkInvariants();
  }

  // Finish: every tool completes its line, everyone joins, passes and deliveries until quiet.
  for (let d = 0; d < devs.length; d++) {
    if (devs[d]!.partial !== null) toolAppend(d, '"}\n');
    devs[d]!.partial = null;
  }
  for (let i = 0; i < ids.length; i++) for (let j = i + 1; j < ids.length; j++) await net.connect(ids[i]!, ids[j]!);
  let k = 0;
  for (let round = 0; ; round++) {
    expect(round, 'union views settle').toBeLessThan(50);
    let moved = false;
    for (let d = 0; d < devs.length; d++) if (await pass(d)) moved = true;
    if ((await net.run((n) => s.finalPicks[k++ % s.finalPicks.length]! % n)) > 0) moved = true;
    if (!moved) break;
  }
  checkInvariants();

  for (let d = 0; d < devs.length; d++) {
    const text = dec.decode(devs[d]!.view);
    expect(text === '' || text.endsWith('\n'), `device ${d}'s view ends with a whole line`).toBe(true);
    const lines = text.split('\n').slice(0, -1).map((l) => JSON.parse(l) as { n: number; d: number; project: string });
    const seen = lines.map((l) => l.n).sort((a, b) => a - b);
    const all = written.flat().sort((a, b) => a - b);
    expect(seen, `device ${d}'s view holds every line exactly once`).toEqual(all);
    for (const l of lines) {
      if (l.project !== '/srv/other') expect(l.project.startsWith(`${home(d)}/`), `device ${d} sees ${l.project} at its own path`).toBe(true);
      else expect(l.project).toBe('/srv/other');
    }
    for (let o = 0; o < devs.length; o++) {
      expect(lines.filter((l) => l.d === o).map((l) => l.n), `device ${o}'s lines keep its order on device ${d}`).toEqual(written[o]);
    }
  }
}
