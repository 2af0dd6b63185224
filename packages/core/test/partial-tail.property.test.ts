/**
 * Property tests of the rule on partial last lines nobody completes (docs/PROTOCOL.md, "Partial
 * last lines"), over 2-4 engines on in-memory links with random deliveries and partitions.
 *
 * Device 0's tool leaves half a line at the end of a log and is never heard of again, while
 * another device appends complete lines to the same log. The complete lines never differ, so:
 * every device ends with the same log (the shared lines, then the other device's), no fork and no
 * conflict copy anywhere, and the half line's bytes in device 0's trash, exactly. (The general
 * convergence property, replication.property.test.ts, abandons partial lines amid everything else.)
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { utf8 } from '../src/bytes.js';
import type { FolderConfig } from '../src/replication/replicator.js';
import { MemoryNetwork } from '../src/testing/index.js';

const runs = Number(process.env.ROAM_PROPERTY_RUNS ?? 150);
const NAME = 'p/s.jsonl';

type Step = { t: 'append'; lines: number } | { t: 'half' } | { t: 'deliver'; count: number; pick: number } | { t: 'toggle'; a: number; b: number };

const stepArb = (devices: number): fc.Arbitrary<Step> =>
  fc.oneof(
    { weight: 3, arbitrary: fc.record({ t: fc.constant('append' as const), lines: fc.integer({ min: 1, max: 3 }) }) },
    { weight: 1, arbitrary: fc.record({ t: fc.constant('half' as const) }) },
    { weight: 5, arbitrary: fc.record({ t: fc.constant('deliver' as const), count: fc.integer({ min: 1, max: 8 }), pick: fc.nat(50) }) },
    { weight: 1, arbitrary: fc.record({ t: fc.constant('toggle' as const), a: fc.nat(devices - 1), b: fc.nat(devices - 1) }) },
  );

const caseArb = fc.integer({ min: 2, max: 4 }).chain((devices) =>
  fc.record({
    devices: fc.constant(devices),
    prefix: fc.integer({ min: 0, max: 4 }),
    writer: fc.integer({ min: 1, max: devices - 1 }),
    half: fc.string({ unit: fc.constantFrom('a', '{', '"', ' ', '\r', 'é'), minLength: 1, maxLength: 10 }),
    mode: fc.constantFrom<FolderConfig['conflict']>('fork', 'syncthing'),
    steps: fc.array(stepArb(devices), { minLength: 1, maxLength: 30 }),
    pick: fc.nat(50),
  }),
);

type Case = typeof caseArb extends fc.Arbitrary<infer T> ? T : never;

async function run(c: Case): Promise<void> {
  const net = new MemoryNetwork();
  const cfg: FolderConfig = { id: 'f', conflict: c.mode, logDeletes: 'local' };
  const ids = Array.from({ length: c.devices }, (_, i) => MemoryNetwork.deviceId(i));
  for (const id of ids) await net.add(id, [cfg], { checkpointInterval: 64 });
  const store = (d: number) => net.nodes.get(ids[d]!)!.stores.get('f')!;
  const engine = (d: number) => net.nodes.get(ids[d]!)!.engine;
  const meshUp = async () => {
    for (let i = 0; i < ids.length; i++) for (let j = i + 1; j < ids.length; j++) await net.connect(ids[i]!, ids[j]!);
  };
  try {
    await meshUp();
    let n = 0;
    const line = (d: number) => `{"n":${n++},"d":${d}}\n`;
    let expected = '';
    for (let i = 0; i < c.prefix; i++) expected += line(0);
    if (expected) {
      store(0).toolAppend(NAME, utf8.encode(expected), net.clock.now());
      await engine(0).scan('f');
      await net.run();
    }
    const half = `{"n":${n++},"half":"${c.half}`;
    let halfWritten = false;
    const writeHalf = async () => {
      if (halfWritten) return;
      halfWritten = true;
      store(0).toolAppend(NAME, utf8.encode(half), net.clock.now());
      await engine(0).scan('f');
    };
    for (const step of c.steps) {
      switch (step.t) {
        case 'append': {
          let text = '';
          for (let i = 0; i < step.lines; i++) text += line(c.writer);
          expected += text;
          store(c.writer).toolAppend(NAME, utf8.encode(text), net.clock.now());
          await engine(c.writer).scan('f');
          break;
        }
        case 'half':
          await writeHalf();
          break;
        case 'deliver':
          for (let i = 0; i < step.count; i++) await net.deliverOne((k) => (step.pick + i) % k);
          break;
        case 'toggle':
          if (step.a === step.b) break;
          if (net.isConnected(ids[step.a]!, ids[step.b]!)) await net.disconnect(ids[step.a]!, ids[step.b]!);
          else await net.connect(ids[step.a]!, ids[step.b]!);
          break;
      }
      // Nobody but device 0 ever holds the half line, and the writer's lines never fork.
      for (let d = 1; d < c.devices; d++) expect(new TextDecoder().decode(store(d).files().get(NAME) ?? new Uint8Array()).includes('"half"')).toBe(false);
    }
    await writeHalf();
    // The other device wrote at least one line after the half line (else nothing waits on it).
    const last = line(c.writer);
    expected += last;
    store(c.writer).toolAppend(NAME, utf8.encode(last), net.clock.now());
    await engine(c.writer).scan('f');
    await meshUp();
    let k = 0;
    await net.run((m) => (c.pick + k++) % m);
    // The half line is young: device 0 still holds it, and has not taken the new lines.
    expect(new TextDecoder().decode(store(0).files().get(NAME)).endsWith(half)).toBe(true);
    net.clock.advance(30_000);
    for (let d = 0; d < c.devices; d++) await engine(d).checkPartialTails();
    await net.run((m) => (c.pick + k++) % m);
    for (let d = 0; d < c.devices; d++) {
      expect([...store(d).files()].map(([name, b]) => [name, new TextDecoder().decode(b)]), `device ${d}`).toEqual([[NAME, expected]]);
      expect(store(d).trash.map((t) => [t.name, new TextDecoder().decode(t.data)]), `device ${d}'s trash`).toEqual(d === 0 ? [[`${NAME}.partial`, half]] : []);
      for (let e = 0; e < c.devices; e++) if (e !== d) expect(engine(d).syncState(ids[e]!).every((s) => s.inSync), `${d} in sync with ${e}`).toBe(true);
    }
  } finally {
    for (const node of net.nodes.values()) await node.engine.close();
  }
}

describe('a partial last line nobody completes, concurrent with appends elsewhere (property)', () => {
  it('all devices converge to the other device\'s lines, no fork, the half line in its device\'s trash', async () => {
    await fc.assert(fc.asyncProperty(caseArb, (c) => run(c).then(() => true)), { numRuns: runs });
  });
});
