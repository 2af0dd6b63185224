/**
 * Partial last lines that nobody completes (docs/PROTOCOL.md, "Partial last lines"): the engine
 * over in-memory stores with a manual clock, and the file store's side (find, drop into the
 * trash, refuse when a writer came back).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { utf8 } from '../src/bytes.js';
import { ErrorCodes } from '../src/errors.js';
import { LineChain } from '../src/log/chain.js';
import { nodeHasher } from '../src/node/index.js';
import type { FolderConfig } from '../src/replication/replicator.js';
import { MemoryNetwork } from '../src/testing/index.js';
import { cleanupAfterEach, openStore, tempRoot } from './support/temp.js';

const A = MemoryNetwork.deviceId(0);
const B = MemoryNetwork.deviceId(1);
const NAME = 's.jsonl';
const BOUND = 30_000;
const cleanup = cleanupAfterEach();

const text = (b: Uint8Array | undefined) => (b === undefined ? undefined : new TextDecoder().decode(b));

/** A and B share three lines of s.jsonl; then, apart, A's tool leaves half a line and B's appends `ours`. */
async function apart(opts: { liveWriter?: () => boolean; ours?: string } = {}) {
  const net = new MemoryNetwork();
  const cfg: FolderConfig = { id: 'f', conflict: 'fork', logDeletes: 'local' };
  for (const id of [A, B]) {
    await net.add(id, [cfg], { checkpointInterval: 64, options: opts.liveWriter ? { liveWriter: opts.liveWriter } : {} });
    cleanup(() => net.nodes.get(id)!.engine.close());
  }
  const store = (id: string) => net.nodes.get(id)!.stores.get('f')!;
  const engine = (id: string) => net.nodes.get(id)!.engine;
  store(A).toolAppend(NAME, utf8.encode('l1\nl2\nl3\n'), net.clock.now());
  await engine(A).scan('f');
  await net.connect(A, B);
  await net.run();
  expect(text(store(B).files().get(NAME))).toBe('l1\nl2\nl3\n');
  await net.disconnect(A, B);
  store(A).toolAppend(NAME, utf8.encode('{"half":'), net.clock.now());
  await engine(A).scan('f');
  store(B).toolAppend(NAME, utf8.encode(opts.ours ?? 'b4\n'), net.clock.now());
  await engine(B).scan('f');
  await net.connect(A, B);
  await net.run();
  /** The clock moves on by `ms`; the engines look at the partial lines that are due; the network runs dry. */
  const later = async (ms: number) => {
    net.clock.advance(ms);
    for (const id of [A, B]) await engine(id).checkPartialTails();
    await net.run();
  };
  return { net, store, engine, later };
}

describe('a partial last line that nobody completes', () => {
  it('holds up the peer\'s lines for the bound, then goes to the trash and the log fast-forwards (no fork)', async () => {
    const { net, store, engine, later } = await apart();
    // Young: the writer may still complete it. The peer's line waits.
    expect(text(store(A).files().get(NAME))).toBe('l1\nl2\nl3\n{"half":');
    await later(BOUND - 1_000);
    expect(text(store(A).files().get(NAME))).toBe('l1\nl2\nl3\n{"half":');
    expect(store(A).trash).toEqual([]);
    expect(engine(B).syncState(A).every((s) => s.inSync)).toBe(false);
    // Past the bound, with no live writer: dropped, kept in the trash, and B's line arrives.
    await later(2_000);
    expect([...store(A).files()].map(([n, b]) => [n, text(b)])).toEqual([[NAME, 'l1\nl2\nl3\nb4\n']]);
    expect([...store(B).files()].map(([n, b]) => [n, text(b)])).toEqual([[NAME, 'l1\nl2\nl3\nb4\n']]);
    expect(store(A).trash.map((t) => [t.name, text(t.data)])).toEqual([[`${NAME}.partial`, '{"half":']]);
    expect(engine(A).syncState(B).every((s) => s.inSync)).toBe(true);
    expect(engine(B).syncState(A).every((s) => s.inSync)).toBe(true);
    expect(net.nodes.get(A)!.log.join('\n')).toMatch(/f\/s\.jsonl: its partial last line \(8 bytes\) went unwritten for 31 s .*moved to the trash as s\.jsonl\.partial/);
    // Later lines flow as usual, both ways.
    store(A).toolAppend(NAME, utf8.encode('a5\n'), net.clock.now());
    await engine(A).scan('f');
    await net.run();
    expect(text(store(B).files().get(NAME))).toBe('l1\nl2\nl3\nb4\na5\n');
  });

  it('is kept while a live writer holds the item, and dropped once none does', async () => {
    let live = true;
    const { store, later } = await apart({ liveWriter: () => live });
    await later(BOUND + 5_000);
    await later(BOUND + 5_000);
    expect(text(store(A).files().get(NAME))).toBe('l1\nl2\nl3\n{"half":');
    live = false;
    await later(BOUND);
    expect(text(store(A).files().get(NAME))).toBe('l1\nl2\nl3\nb4\n');
    expect(store(A).trash.map((t) => t.name)).toEqual([`${NAME}.partial`]);
  });

  it('completed in time, it is an ordinary line: the complete lines differ, so the log forks as before', async () => {
    const { store, engine, later, net } = await apart();
    store(A).toolAppend(NAME, utf8.encode('"a4"}\n'), net.clock.now() + 1_000);
    await engine(A).scan('f');
    await net.run();
    await later(BOUND * 2);
    expect(store(A).trash.filter((t) => t.name.endsWith('.partial'))).toEqual([]);
    const files = [...store(A).files()].map(([n, b]) => [n, text(b)]);
    expect([...store(B).files()].map(([n, b]) => [n, text(b)])).toEqual(files);
    expect(files.map(([, t]) => t).sort()).toEqual(['l1\nl2\nl3\n{"half":"a4"}\n', 'l1\nl2\nl3\nb4\n'].sort());
    expect(files.some(([n]) => /^s\.fork-[0-9a-f]{12}\.jsonl$/.test(n!))).toBe(true);
  });
});

describe('the file store and a partial last line', () => {
  async function store() {
    const { root, stateDir } = tempRoot(cleanup, 'roam-partial-');
    const s = await openStore(cleanup, { root, stateDir }, { hasher: nodeHasher });
    return { s, root };
  }

  it('finds it, drops it into the trash as <name>.partial, cuts the log to its last line, and then takes appends', async () => {
    const { s, root } = await store();
    const file = path.join(root, NAME);
    fs.writeFileSync(file, 'l1\nl2\n{"half":');
    fs.utimesSync(file, 1_000, 1_000);
    await s.scan();
    const state = s.stat(NAME)!;
    expect(state.size).toBe(6);
    fs.utimesSync(file, 2_000, 2_000); // the partial line came later than the last complete one
    await s.scan();
    const tail = await s.partialTail(NAME);
    expect(tail).toEqual({ bytes: 8, mtimeMs: 2_000_000 });
    // An append is refused while the partial line is there.
    const chain = new LineChain(nodeHasher, { offset: state.size, line: state.lines, hash: state.hash });
    chain.push(utf8.encode('b3\n'));
    const start = { offset: state.size, line: state.lines, hash: state.hash };
    await expect(s.appendLog(NAME, start, [utf8.encode('b3\n')], chain.pos, 3_000_000)).rejects.toMatchObject({ code: ErrorCodes.STORE_CONFLICT });
    expect(await s.dropPartialTail(NAME, state, tail!)).toEqual(state);
    expect(fs.readFileSync(file, 'utf8')).toBe('l1\nl2\n');
    expect(fs.statSync(file).mtimeMs).toBe(state.mtimeMs);
    expect(await s.partialTail(NAME)).toBeNull();
    expect(await s.scan()).toEqual([]); // the store's own cut is no local change
    const trash = await s.listTrash();
    expect(trash.map((t) => [t.name, t.size])).toEqual([[`${NAME}.partial`, 8]]);
    await s.appendLog(NAME, start, [utf8.encode('b3\n')], chain.pos, 3_000_000);
    expect(fs.readFileSync(file, 'utf8')).toBe('l1\nl2\nb3\n');
    // `roam restore` puts the bytes back beside the log, never over it.
    expect(await s.restoreFromTrash(trash[0]!.entry)).toBe(`${NAME}.partial`);
    expect(fs.readFileSync(path.join(root, `${NAME}.partial`), 'utf8')).toBe('{"half":');
  });

  it('refuses to drop it when a writer came back since (the line grew), and changes nothing', async () => {
    const { s, root } = await store();
    const file = path.join(root, NAME);
    fs.writeFileSync(file, 'l1\n{"half":');
    await s.scan();
    const state = s.stat(NAME)!;
    const tail = (await s.partialTail(NAME))!;
    fs.appendFileSync(file, '"more');
    await expect(s.dropPartialTail(NAME, state, tail)).rejects.toMatchObject({ code: ErrorCodes.STORE_CONFLICT });
    expect(fs.readFileSync(file, 'utf8')).toBe('l1\n{"half":"more');
    expect(await s.listTrash()).toEqual([]);
    // A log that ends with a complete line has none.
    fs.appendFileSync(file, '"}\n');
    await s.scan();
    expect(await s.partialTail(NAME)).toBeNull();
    expect(s.stat(NAME)!.lines).toBe(2);
  });
});
