import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ErrorCodes, type ErrorCode } from '../src/errors.js';
import { DEFAULT_CHECKPOINT_INTERVAL, LineChain } from '../src/log/chain.js';
import { nobleHasher, sha256Of } from '../src/log/hash.js';
import { GENESIS, ZERO_HASH, type LogPos } from '../src/log/position.js';
import { FsFolderStore, Journal, nodeHasher, type FsFolderStoreOptions } from '../src/node/index.js';
import { cleanupAfterEach, openStore as openStoreIn, tempRoot } from './support/temp.js';

// ── Helpers ──────────────────────────────────────────────────────────────────────────────────

const enc = (s: string) => new TextEncoder().encode(s);
const cleanup = cleanupAfterEach();

/** A fresh root + state dir, removed after the test. */
const tempDirs = () => tempRoot(cleanup, 'roam-fs-store-');

const openStore = (dirs: { root: string; stateDir: string }, extra: Partial<FsFolderStoreOptions> = {}): Promise<FsFolderStore> => openStoreIn(cleanup, dirs, extra);

/** A fresh fold of whole-log content: end position and checkpoints. */
function fold(bytes: Uint8Array, interval = DEFAULT_CHECKPOINT_INTERVAL): { end: LogPos; checkpoints: LogPos[]; partial: number } {
  const chain = new LineChain(nodeHasher, GENESIS, interval);
  chain.push(bytes);
  return { end: chain.pos, checkpoints: chain.takeCheckpoints(), partial: chain.partialBytes };
}

function logState(name: string, bytes: Uint8Array) {
  const { end } = fold(bytes);
  return { name, kind: 'log', deleted: false, size: end.offset, lines: end.line, hash: end.hash };
}

async function expectCode(p: Promise<unknown>, code: ErrorCode): Promise<void> {
  await expect(p).rejects.toMatchObject({ name: 'RoamError', code });
}

function randomLine(len: number): Uint8Array {
  const b = new Uint8Array(len + 1);
  for (let i = 0; i < len; i++) b[i] = 0x20 + ((i * 7919 + len) % 90);
  b[len] = 0x0a;
  return b;
}

const cat = (...parts: Uint8Array[]) => new Uint8Array(Buffer.concat(parts));

/** Byte equality without letting vitest diff megabytes. */
function expectSameBytes(actual: Uint8Array, expected: Uint8Array): void {
  const at = Buffer.from(actual).findIndex((b, i) => b !== expected[i]);
  expect({ length: actual.length, firstDifference: actual.length === expected.length ? at : 'n/a' }).toEqual({ length: expected.length, firstDifference: -1 });
}

// ── Tests ────────────────────────────────────────────────────────────────────────────────────

describe('nodeHasher', () => {
  it('agrees with nobleHasher', () => {
    const data = [enc('hello\n'), new Uint8Array([0xff, 0xfe, 0x0a]), new Uint8Array(100_000).fill(7)];
    expect(sha256Of(nodeHasher, data)).toEqual(sha256Of(nobleHasher, data));
    expect(sha256Of(nodeHasher, [])).toEqual(sha256Of(nobleHasher, []));
  });
});

describe('FsFolderStore scan', () => {
  it('reports a new log as replace and an append as append, reading only the new bytes', async () => {
    const dirs = tempDirs();
    const store = await openStore(dirs);
    const file = path.join(dirs.root, 'a.jsonl');
    fs.writeFileSync(file, 'one\ntwo\n');
    expect(await store.scan()).toEqual([{ change: 'replace', state: expect.objectContaining(logState('a.jsonl', enc('one\ntwo\n'))) }]);

    fs.appendFileSync(file, 'three\n');
    store.stats.bytesRead = 0;
    const changes = await store.scan();
    expect(changes).toEqual([{ change: 'append', state: expect.objectContaining(logState('a.jsonl', enc('one\ntwo\nthree\n'))) }]);
    expect(store.stats.bytesRead).toBe(6);
    expect(store.stats.tailBytesRead).toBeLessThanOrEqual(2 * 4096);
    expect(await store.scan()).toEqual([]);
  });

  it('holds back a partial last line and reports it once completed', async () => {
    const dirs = tempDirs();
    const store = await openStore(dirs);
    const file = path.join(dirs.root, 'p.jsonl');
    fs.writeFileSync(file, 'a\n');
    await store.scan();
    fs.appendFileSync(file, 'half');
    expect(await store.scan()).toEqual([]);
    expect(store.stat('p.jsonl')).toMatchObject({ size: 2, lines: 1 });
    expect(await store.scan()).toEqual([]); // unchanged stat: nothing read
    fs.appendFileSync(file, ' done\nnext-partial');
    store.stats.bytesRead = 0;
    const [change] = await store.scan();
    expect(change).toMatchObject({ change: 'append', state: logState('p.jsonl', enc('a\nhalf done\n')) });
    expect(store.stats.bytesRead).toBe('half done\nnext-partial'.length); // the partial line is reread
  });

  it('treats a log rewritten in place to a greater length as replace', async () => {
    const dirs = tempDirs();
    const store = await openStore(dirs);
    const file = path.join(dirs.root, 'r.jsonl');
    fs.writeFileSync(file, 'aaa\nbbb\n');
    await store.scan();
    const ino = fs.statSync(file).ino;
    fs.writeFileSync(file, 'xxx\nbbb\nccc\n'); // same inode, longer, first line changed
    expect(fs.statSync(file).ino).toBe(ino);
    expect(await store.scan()).toEqual([{ change: 'replace', state: expect.objectContaining(logState('r.jsonl', enc('xxx\nbbb\nccc\n'))) }]);
  });

  it('treats truncation as replace and deletion as delete', async () => {
    const dirs = tempDirs();
    const store = await openStore(dirs, { now: () => 1234 });
    const file = path.join(dirs.root, 'sub/t.jsonl');
    fs.mkdirSync(path.dirname(file));
    fs.writeFileSync(file, 'one\ntwo\nthree\n');
    await store.scan();
    fs.truncateSync(file, 8);
    expect(await store.scan()).toEqual([{ change: 'replace', state: expect.objectContaining(logState('sub/t.jsonl', enc('one\ntwo\n'))) }]);
    fs.unlinkSync(file);
    const [del] = await store.scan();
    expect(del).toMatchObject({ change: 'delete', state: { name: 'sub/t.jsonl', deleted: true, size: 0, lines: 0, hash: ZERO_HASH, mtimeMs: 1234 } });
    expect(store.stat('sub/t.jsonl')).toBeNull();
    expect(await store.scan()).toEqual([]);
  });

  it('reports a touched whole file as a change of its mtime (as Syncthing does), a touched log not at all', async () => {
    const dirs = tempDirs();
    const store = await openStore(dirs);
    const file = path.join(dirs.root, 'notes.md');
    fs.writeFileSync(file, 'hello');
    const [created] = await store.scan();
    expect(created).toMatchObject({ change: 'replace', state: { kind: 'file', size: 5, lines: 0, hash: sha256Of(nodeHasher, [enc('hello')]) } });
    const later = new Date(Math.floor(Date.now() / 1000) * 1000 + 5000);
    fs.utimesSync(file, later, later);
    expect(await store.scan()).toMatchObject([{ change: 'replace', state: { hash: sha256Of(nodeHasher, [enc('hello')]), mtimeMs: later.getTime() } }]);
    expect(await store.scan()).toEqual([]);
    const log = path.join(dirs.root, 's.jsonl');
    fs.writeFileSync(log, '{"a":1}\n');
    expect(await store.scan()).toHaveLength(1);
    fs.utimesSync(log, later, later);
    expect(await store.scan()).toEqual([]);
    fs.writeFileSync(file, 'HELLO');
    expect(await store.scan()).toMatchObject([{ change: 'replace', state: { hash: sha256Of(nodeHasher, [enc('HELLO')]) } }]);
  });

  it('examines only the given names', async () => {
    const dirs = tempDirs();
    const store = await openStore(dirs);
    fs.writeFileSync(path.join(dirs.root, 'a.txt'), 'a');
    fs.writeFileSync(path.join(dirs.root, 'b.txt'), 'b');
    expect((await store.scan(['a.txt', 'missing.txt'])).map((c) => c.state.name)).toEqual(['a.txt']);
    expect((await store.scan()).map((c) => c.state.name)).toEqual(['b.txt']);
  });

  it('skips temp files, ignored paths and symlinks; open() deletes leftover temp files', async () => {
    const dirs = tempDirs();
    fs.writeFileSync(path.join(dirs.root, '.roam-tmp-abc-x.txt'), 'junk');
    fs.mkdirSync(path.join(dirs.root, 'node_modules'));
    fs.writeFileSync(path.join(dirs.root, 'node_modules/m.js'), 'm');
    fs.symlinkSync(path.join(dirs.root, 'node_modules/m.js'), path.join(dirs.root, 'link.js'));
    fs.writeFileSync(path.join(dirs.root, 'keep.txt'), 'k');
    const store = await openStore(dirs, { ignore: (n) => n === 'node_modules' });
    expect(fs.existsSync(path.join(dirs.root, '.roam-tmp-abc-x.txt'))).toBe(false);
    fs.writeFileSync(path.join(dirs.root, '.roam-tmp-def-y.txt'), 'junk');
    expect((await store.scan()).map((c) => c.state.name)).toEqual(['keep.txt']);
  });

  it('never reports an item deleted because it became ignored', async () => {
    const dirs = tempDirs();
    let ignored = false;
    const store = await openStore(dirs, { ignore: (n) => ignored && n.startsWith('p2') });
    fs.mkdirSync(path.join(dirs.root, 'p2'));
    fs.writeFileSync(path.join(dirs.root, 'p2/s.jsonl'), '{}\n');
    expect((await store.scan()).map((c) => c.change)).toEqual(['replace']);
    ignored = true;
    expect(await store.scan()).toEqual([]);
    expect(await store.scan(['p2/s.jsonl'])).toEqual([]);
    fs.rmSync(path.join(dirs.root, 'p2'), { recursive: true });
    expect(await store.scan()).toEqual([]);
  });

  it('skips its own state dir inside the folder', async () => {
    const { root } = tempDirs();
    const store = await openStore({ root, stateDir: path.join(root, '.roam') });
    fs.writeFileSync(path.join(root, 'a.txt'), 'a');
    await store.meta.put([['k', 1]]);
    expect((await store.scan()).map((c) => c.state.name)).toEqual(['a.txt']);
  });

  it('after a restart reads only the bytes past known offsets and nothing for unchanged files', async () => {
    const dirs = tempDirs();
    const first = await openStore(dirs);
    const big = cat(...Array.from({ length: 2000 }, (_, i) => randomLine(i % 97)));
    fs.writeFileSync(path.join(dirs.root, 'big.jsonl'), big);
    fs.writeFileSync(path.join(dirs.root, 'same.jsonl'), 'x\n');
    fs.writeFileSync(path.join(dirs.root, 'doc.bin'), new Uint8Array(50_000).fill(1));
    expect(await first.scan()).toHaveLength(3);
    await first.close();

    // Restart with nothing changed: no reads at all.
    const second = await openStore(dirs);
    expect(await second.scan()).toEqual([]);
    expect(second.stats).toMatchObject({ bytesRead: 0, tailBytesRead: 0 });
    await second.close();

    const extra = enc('{"new":1}\n{"new":2}\npartial');
    fs.appendFileSync(path.join(dirs.root, 'big.jsonl'), extra);
    const third = await openStore(dirs);
    const changes = await third.scan();
    expect(changes).toEqual([{ change: 'append', state: expect.objectContaining(logState('big.jsonl', cat(big, enc('{"new":1}\n{"new":2}\n')))) }]);
    expect(third.stats.bytesRead).toBe(extra.length);
    expect(third.stats.tailBytesRead).toBeLessThanOrEqual(2 * 4096);
  });
});

describe('FsFolderStore writes', () => {
  it('keeps CRLF, invalid UTF-8 and a 20 MB line byte-exact through appendLog, stage and scan', async () => {
    const dirs = tempDirs();
    const store = await openStore(dirs);
    const crlf = enc('{"a":1}\r\n');
    const invalid = new Uint8Array([0xff, 0xfe, 0x80, 0x0a]);
    const huge = new Uint8Array(20 * 1024 * 1024 + 1).fill(0x41);
    huge[12345] = 0xc3;
    huge[huge.length - 1] = 0x0a;
    const content = cat(crlf, invalid, huge);

    const mid = fold(cat(crlf, invalid)).end;
    await store.appendLog('x.jsonl', GENESIS, [crlf, invalid], mid, 1_700_000_000_000);
    const end = fold(content).end;
    const state = await store.appendLog('x.jsonl', mid, [huge], end, 1_700_000_001_000);
    expect(state).toMatchObject({ size: content.length, lines: 3, hash: end.hash, mtimeMs: 1_700_000_001_000 });
    expectSameBytes(fs.readFileSync(path.join(dirs.root, 'x.jsonl')), content);
    expectSameBytes(await store.read('x.jsonl', 0, content.length), content);

    const staged = await store.stage('copy/y.jsonl');
    for (let at = 0; at < content.length; at += 3_000_000) await staged.write(at, content.subarray(at, at + 3_000_000));
    await staged.commit({ kind: 'log', size: content.length, lines: 3, hash: end.hash, mtimeMs: 1_700_000_002_000, mode: 0o640 }, null);
    expectSameBytes(fs.readFileSync(path.join(dirs.root, 'copy/y.jsonl')), content);
    expect(fs.statSync(path.join(dirs.root, 'copy/y.jsonl')).mode & 0o777).toBe(0o600); // a peer's 0640: its owner bits

    const blob = cat(invalid, crlf);
    const file = await store.stage('blob.bin');
    await file.write(0, blob);
    await file.commit({ kind: 'file', size: blob.length, lines: 0, hash: sha256Of(nodeHasher, [blob]), mtimeMs: 1_700_000_003_000, mode: 0o644 }, null);

    expect(await store.scan()).toEqual([]); // own writes are not local changes

    // A store with a fresh index sees exactly the same states.
    const fresh = await openStore({ root: dirs.root, stateDir: path.join(dirs.base, 'state2') });
    const seen = new Map((await fresh.scan()).map((c) => [c.state.name, c.state]));
    for (const name of ['x.jsonl', 'copy/y.jsonl']) expect(seen.get(name)).toMatchObject(logState(name, content));
    expect(seen.get('blob.bin')).toMatchObject({ size: blob.length, hash: sha256Of(nodeHasher, [blob]) });
  });

  it('refuses appendLog from a wrong start, or after a local write, with ROAM_STORE_CONFLICT', async () => {
    const dirs = tempDirs();
    const store = await openStore(dirs);
    const file = path.join(dirs.root, 'c.jsonl');
    const a = enc('a\n');
    const endA = fold(a).end;
    await store.appendLog('c.jsonl', GENESIS, [a], endA, 1000);
    const b = enc('b\n');
    const endAB = fold(cat(a, b)).end;
    await expectCode(store.appendLog('c.jsonl', GENESIS, [b], fold(b).end, 1000), ErrorCodes.STORE_CONFLICT);
    await expectCode(store.appendLog('c.jsonl', { ...endA, line: 2 }, [b], endAB, 1000), ErrorCodes.STORE_CONFLICT);
    fs.appendFileSync(file, 'local\n'); // a local writer got there first
    await expectCode(store.appendLog('c.jsonl', endA, [b], endAB, 1000), ErrorCodes.STORE_CONFLICT);
    expect(fs.readFileSync(file, 'utf8')).toBe('a\nlocal\n');
    // A new log whose file already exists is a conflict too.
    fs.writeFileSync(path.join(dirs.root, 'd.jsonl'), 'x\n');
    await expectCode(store.appendLog('d.jsonl', GENESIS, [a], endA, 1000), ErrorCodes.STORE_CONFLICT);
    expect(fs.readFileSync(path.join(dirs.root, 'd.jsonl'), 'utf8')).toBe('x\n');
  });

  it('refuses appendLog data that does not fold to end with ROAM_STORE_HASH_MISMATCH', async () => {
    const dirs = tempDirs();
    const store = await openStore(dirs);
    const a = enc('a\n');
    await store.appendLog('h.jsonl', GENESIS, [a], fold(a).end, 1000);
    const before = fs.readFileSync(path.join(dirs.root, 'h.jsonl'));
    const claimed = fold(enc('a\nb\n')).end;
    await expectCode(store.appendLog('h.jsonl', fold(a).end, [enc('X\n')], claimed, 1000), ErrorCodes.STORE_HASH_MISMATCH);
    await expectCode(store.appendLog('h.jsonl', fold(a).end, [enc('b\n'), enc('partial')], claimed, 1000), ErrorCodes.STORE_HASH_MISMATCH);
    expect(fs.readFileSync(path.join(dirs.root, 'h.jsonl'))).toEqual(before);
    expect(store.stat('h.jsonl')).toMatchObject({ size: 2, lines: 1 });
  });

  it('refuses a staged commit with a wrong hash or a stale expectation and leaves no temp file', async () => {
    const dirs = tempDirs();
    const store = await openStore(dirs);
    const data = enc('content');
    const target = { kind: 'file' as const, size: data.length, lines: 0, hash: sha256Of(nodeHasher, [data]), mtimeMs: 5000, mode: 0o644 };
    const listing = () => fs.readdirSync(dirs.root);

    const bad = await store.stage('f.txt');
    await bad.write(0, data);
    await expectCode(bad.commit({ ...target, hash: ZERO_HASH }, null), ErrorCodes.STORE_HASH_MISMATCH);
    await bad.abort();
    expect(listing()).toEqual([]);

    const log = await store.stage('l.jsonl');
    await log.write(0, enc('a\nno newline'));
    const { end } = fold(enc('a\nno newline'));
    await expectCode(log.commit({ kind: 'log', size: 12, lines: end.line, hash: end.hash, mtimeMs: 1, mode: 0o644 }, null), ErrorCodes.STORE_HASH_MISMATCH);
    expect(listing()).toEqual([]);

    const out = await store.stage('f.txt');
    await expectCode(out.write(5, data), ErrorCodes.PROTOCOL_VIOLATION);
    fs.writeFileSync(path.join(dirs.root, 'f.txt'), 'local');
    await out.write(0, data);
    await expectCode(out.commit(target, null), ErrorCodes.STORE_CONFLICT);
    expect(listing()).toEqual(['f.txt']);
    expect(fs.readFileSync(path.join(dirs.root, 'f.txt'), 'utf8')).toBe('local');
  });

  it('replaces an item only if the disk still matches expected', async () => {
    const dirs = tempDirs();
    const store = await openStore(dirs);
    fs.writeFileSync(path.join(dirs.root, 'f.txt'), 'v1');
    const state = (await store.scan())[0]!.state;
    const v2 = enc('v2!');
    const target = { kind: 'file' as const, size: 3, lines: 0, hash: sha256Of(nodeHasher, [v2]), mtimeMs: 7000, mode: 0o600 };
    const w = await store.stage('f.txt');
    await w.write(0, v2);
    expect(await w.commit(target, state)).toMatchObject({ name: 'f.txt', size: 3, mtimeMs: 7000, mode: 0o600 });
    expect(fs.readFileSync(path.join(dirs.root, 'f.txt'), 'utf8')).toBe('v2!');
    expect(fs.statSync(path.join(dirs.root, 'f.txt')).mtimeMs).toBeCloseTo(7000, 0);
    expect(await store.scan()).toEqual([]);
    // The old state is stale now.
    const again = await store.stage('f.txt');
    await again.write(0, v2);
    await expectCode(again.commit(target, state), ErrorCodes.STORE_CONFLICT);
  });

  it('never reports its own appendLog, rename and remove; remove moves the item to the trash', async () => {
    const dirs = tempDirs();
    const store = await openStore(dirs, { now: () => Date.UTC(2024, 0, 2, 3, 4, 5, 6) });
    const a = enc('{"x":1}\n');
    const s1 = await store.appendLog('logs/a.jsonl', GENESIS, [a], fold(a).end, 1000);
    expect(await store.scan()).toEqual([]);
    const s2 = await store.rename('logs/a.jsonl', 'moved/b.jsonl', s1);
    expect(s2).toMatchObject({ ...s1, name: 'moved/b.jsonl' });
    expect(store.stat('logs/a.jsonl')).toBeNull();
    expect(await store.scan()).toEqual([]);
    fs.writeFileSync(path.join(dirs.root, 'taken.jsonl'), '');
    await store.scan();
    await expectCode(store.rename('moved/b.jsonl', 'taken.jsonl', s2), ErrorCodes.STORE_CONFLICT);

    await store.remove('moved/b.jsonl', s2);
    expect(fs.existsSync(path.join(dirs.root, 'moved/b.jsonl'))).toBe(false);
    const trashed = path.join(dirs.stateDir, 'trash', '20240102T030405-006', 'moved/b.jsonl');
    expect(fs.readFileSync(trashed)).toEqual(Buffer.from(a));
    expect(store.stat('moved/b.jsonl')).toBeNull();
    expect(await store.scan()).toEqual([]);
    // A stale expectation is refused.
    await expectCode(store.remove('taken.jsonl', s2), ErrorCodes.STORE_CONFLICT);
  });

  it('sees lines a tool appended right behind its own append (and keeps their mtime)', async () => {
    const dirs = tempDirs();
    const own = enc('{"from":"peer"}\n');
    const tools = enc('{"from":"tool"}\n');
    const file = path.join(dirs.root, 'race.jsonl');
    // The tool writes between our write and the state we record (the race e2e hit under load).
    const store = await openStore(dirs, { afterAppendWrite: async () => fs.appendFileSync(file, tools) });
    const state = await store.appendLog('race.jsonl', GENESIS, [own], fold(own).end, 1_000_000);
    expect(state.size).toBe(own.length);
    expect(fs.statSync(file).mtimeMs).not.toBe(1_000_000);
    const changes = await store.scan();
    expect(changes).toEqual([{ change: 'append', state: expect.objectContaining({ name: 'race.jsonl', size: own.length + tools.length, lines: 2 }) }]);
  });

  it('a new log is whole or absent after a crash; one renamed in before its record is found by the next scan', async () => {
    const dirs = tempDirs();
    const a = enc('{"a":1}\n{"b":2}\n');
    // The crash image: what the disk holds between the rename and the journaled record.
    const image = tempDirs();
    const store = await openStore(dirs, {
      afterAppendWrite: async () => {
        fs.cpSync(dirs.root, image.root, { recursive: true });
        fs.cpSync(dirs.stateDir, image.stateDir, { recursive: true });
      },
    });
    const state = await store.appendLog('p/new.jsonl', GENESIS, [a], fold(a).end, 1_000_000);
    expect(fs.readdirSync(path.join(dirs.root, 'p'))).toEqual(['new.jsonl']); // no temp file left
    const after = await openStore(image);
    expect(await after.open()).toEqual([]);
    expect(fs.readFileSync(path.join(image.root, 'p/new.jsonl'))).toEqual(Buffer.from(a));
    const found = await after.scan();
    expect(found).toEqual([{ change: 'replace', state: expect.objectContaining({ name: 'p/new.jsonl', size: state.size, lines: state.lines, hash: state.hash }) }]);
    expect(await after.scan()).toEqual([]);
    // A failure after the rename (here: in the hook) undoes the creation.
    const failing = await openStore(tempDirs(), { afterAppendWrite: async () => { throw new Error('boom'); } });
    await expect(failing.appendLog('q.jsonl', GENESIS, [a], fold(a).end, 1000)).rejects.toThrow();
    expect(failing.stat('q.jsonl')).toBeNull();
    expect(await failing.scan()).toEqual([]);
  });

  it('journals the records of new logs with the next journal write (meta.put included), directories fsynced first', async () => {
    const dirs = tempDirs();
    const store = await openStore(dirs);
    const a = enc('{"a":1}\n');
    const b = enc('{"b":2}\n');
    const sa = await store.appendLog('p/a.jsonl', GENESIS, [a], fold(a).end, 1000);
    const sb = await store.appendLog('q/b.jsonl', GENESIS, [b], fold(b).end, 1000);
    const fsyncs = store.stats.fsyncs;
    // A crash now: both logs whole on disk, neither recorded; a scan finds them.
    const image = tempDirs();
    fs.cpSync(dirs.root, image.root, { recursive: true });
    fs.cpSync(dirs.stateDir, image.stateDir, { recursive: true });
    const crashed = await openStore(image);
    expect(await crashed.open()).toEqual([]);
    expect((await crashed.scan()).map((c) => c.state.name).sort()).toEqual(['p/a.jsonl', 'q/b.jsonl']);
    // The replication state goes through meta.put: the records are journaled before it.
    await store.meta.put([['k', 1]]);
    expect(store.stats.fsyncs - fsyncs).toBe(4); // two directories, the index, the meta journal
    const image2 = tempDirs();
    fs.cpSync(dirs.root, image2.root, { recursive: true });
    fs.cpSync(dirs.stateDir, image2.stateDir, { recursive: true });
    const after = await openStore(image2);
    expect((await after.open()).sort((x, y) => (x.name < y.name ? -1 : 1))).toEqual([sa, sb]);
    expect(await after.scan()).toEqual([]);
    expect((await after.meta.load()).get('k')).toBe(1);
  });

  it('rolls back an append whose commit never reached the index', async () => {
    const dirs = tempDirs();
    let store = await openStore(dirs);
    const a = enc('a\n');
    const state = await store.appendLog('i.jsonl', GENESIS, [a], fold(a).end, 1000);
    await store.close();
    // Simulate a crash mid-append: an intent is journaled and part of the batch written.
    const file = path.join(dirs.root, 'i.jsonl');
    const st = fs.statSync(file);
    const { journal } = await Journal.open(path.join(dirs.stateDir, 'index.jsonl'));
    await journal.append([{ t: 'intent', name: 'i.jsonl', from: 2, to: 40, ino: st.ino, dev: st.dev }]);
    await journal.close();
    fs.appendFileSync(file, 'torn batch, no newl');
    store = await openStore(dirs);
    expect(fs.readFileSync(file, 'utf8')).toBe('a\n');
    expect(store.stat('i.jsonl')).toEqual(state);
    expect(await store.scan()).toEqual([]);
    await store.appendLog('i.jsonl', fold(a).end, [enc('b\n')], fold(enc('a\nb\n')).end, 2000); // the disk matches again
  });

  it('answers positionAt from checkpoints exactly like a fresh fold', async () => {
    const dirs = tempDirs();
    const store = await openStore(dirs, { checkpointInterval: 64 });
    const lines = Array.from({ length: 150 }, (_, i) => randomLine((i * 37) % 101));
    const content = cat(...lines);
    // Built by appendLog in batches, and by scan (a rehash, then an append).
    let pos = GENESIS;
    for (let i = 0; i < lines.length; i += 17) {
      const batch = lines.slice(i, i + 17);
      const chain = new LineChain(nodeHasher, pos);
      for (const l of batch) chain.push(l);
      await store.appendLog('w.jsonl', pos, batch, chain.pos, 1000);
      pos = chain.pos;
    }
    fs.writeFileSync(path.join(dirs.root, 's.jsonl'), content.subarray(0, 3000));
    await store.scan();
    fs.appendFileSync(path.join(dirs.root, 's.jsonl'), content.subarray(3000));
    expect(await store.scan()).toMatchObject([{ change: 'append' }]);

    const expected = fold(content, 64);
    const ends = new Map<number, LogPos>([[0, GENESIS]]);
    const walk = new LineChain(nodeHasher, GENESIS);
    for (const l of lines) {
      walk.push(l);
      ends.set(walk.pos.offset, walk.pos);
    }
    for (const name of ['w.jsonl', 's.jsonl']) {
      expect(await store.checkpoints(name)).toEqual(expected.checkpoints);
      expect(expected.checkpoints.length).toBeGreaterThan(50);
      // Every offset of the first 700 bytes, and around every line end.
      const offsets = new Set([...Array.from({ length: 700 }, (_, i) => i), ...[...ends.keys()].flatMap((o) => [o - 1, o, o + 1])]);
      for (const offset of offsets) expect(await store.positionAt(name, offset)).toEqual(ends.get(offset) ?? null);
    }
  });
});

describe('meta store', () => {
  it('persists the last value per key across restarts; null deletes', async () => {
    const dirs = tempDirs();
    const first = await openStore(dirs);
    await first.meta.put([
      ['a', { n: 1 }],
      ['b', 'x'],
    ]);
    await first.meta.put([
      ['a', { n: 2 }],
      ['b', null],
    ]);
    expect(await first.meta.load()).toEqual(new Map([['a', { n: 2 }]]));
    await first.close();
    const second = await openStore(dirs);
    expect(await second.meta.load()).toEqual(new Map([['a', { n: 2 }]]));
  });
});

describe('Journal', () => {
  it('drops a torn last line and compacts when it has grown past twice the live size', async () => {
    const { base } = tempDirs();
    const file = path.join(base, 'j.jsonl');
    let { journal, records } = await Journal.open(file);
    expect(records).toEqual([]);
    await journal.append([{ k: 1 }, { k: 2 }]);
    await journal.close();
    fs.appendFileSync(file, '[{"k":3},{"k"');
    ({ journal, records } = await Journal.open(file));
    expect(records).toEqual([{ k: 1 }, { k: 2 }]);
    expect(fs.readFileSync(file, 'utf8')).toBe('[{"k":1},{"k":2}]\n');

    const pad = 'p'.repeat(1000);
    for (let i = 0; i < 200; i++) await journal.append([{ i, pad }]);
    expect(journal.due).toBe(true);
    expect(await journal.compact([{ last: pad }])).toBe(true);
    expect(await journal.compact([{ last: pad }])).toBe(false);
    await journal.append([{ more: true }]);
    await journal.close();
    ({ journal, records } = await Journal.open(file));
    expect(records).toEqual([{ last: pad }, { more: true }]);
    await journal.close();
  });

  it('is not due for a compaction check right after open, only once it has doubled since', async () => {
    const { base } = tempDirs();
    const file = path.join(base, 'j.jsonl');
    let { journal } = await Journal.open(file);
    const pad = 'p'.repeat(1000);
    for (let i = 0; i < 300; i++) await journal.append([{ i, pad }]);
    await journal.close();
    const size = fs.statSync(file).size;
    ({ journal } = await Journal.open(file));
    expect(journal.due).toBe(false);
    while (fs.statSync(file).size < 2 * size) {
      expect(journal.due).toBe(false);
      await journal.append([{ pad }]);
    }
    expect(journal.due).toBe(true);
    await journal.close();
  });
});
