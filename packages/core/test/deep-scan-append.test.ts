/**
 * Regression (found by the torture suite, test/torture/netfault.test.ts): before acting on a
 * divergence a device re-reads its own copy whole (a deep scan). When a tool had appended to the
 * log since the last cheap scan, the deep scan reported the grown log as rewritten: a new epoch,
 * a version that dominated the peer's. The peer then took this device's continuation as newer,
 * replaced its own log with it, and its own concurrent lines went to the trash, not to a fork.
 * A log that still holds its known content and only grew is an append, however it was read.
 */
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { toHex } from '../src/bytes.js';
import { Engine } from '../src/engine.js';
import { FsFolderStore, nodeHasher } from '../src/node/index.js';
import { linkPair, type LinkPair } from '../src/testing/link-pair.js';
import { until } from './support/poll.js';
import { chainHash, cleanupAfterEach, openStore, tempDir } from './support/temp.js';

const cleanup = cleanupAfterEach();
const tempDirOf = (label: string) => tempDir(cleanup, `roam-deep-scan-${label}-`);

const line = (who: string, i: number) => `${JSON.stringify({ type: 'user', uuid: `${who}-${i}`, message: { content: `${who} line ${i} ${'.'.repeat(80 + i)}` } })}\n`;
const lines = (who: string, from: number, n: number) => Array.from({ length: n }, (_, i) => line(who, from + i)).join('');


describe('a deep scan of a log that only grew', () => {
  it('reports an append, not a rewrite; an edited prefix is still a rewrite', async () => {
    const root = tempDirOf('root');
    const store = await openStore(cleanup, { root, stateDir: path.join(tempDirOf('state'), 's') });
    const file = path.join(root, 's.jsonl');
    fs.writeFileSync(file, lines('a', 0, 5));
    expect((await store.scan(['s.jsonl'])).map((c) => c.change)).toEqual(['replace']);

    fs.appendFileSync(file, lines('a', 5, 3));
    const grown = await store.scan(['s.jsonl'], { deep: true });
    expect(grown.map((c) => [c.change, c.state.size, c.state.lines])).toEqual([['append', fs.statSync(file).size, 8]]);
    expect(toHex(grown[0]!.state.hash)).toBe(chainHash(lines('a', 0, 8)));
    // Nothing new: nothing reported.
    expect(await store.scan(['s.jsonl'], { deep: true })).toEqual([]);

    // The first line edited in place (same length), and the log grown: a new epoch, as before.
    const edited = lines('a', 0, 8).replace('a line 0', 'A line 0') + line('a', 8);
    fs.writeFileSync(file, edited);
    const rewritten = await store.scan(['s.jsonl'], { deep: true });
    expect(rewritten.map((c) => [c.change, c.state.lines])).toEqual([['replace', 9]]);
  });

  it('two devices that appended while apart, one with lines not yet scanned when they meet: both continuations survive, one as a fork', async () => {
    const FOLDER = { id: 'f', conflict: 'fork' as const, logDeletes: 'local' as const };
    const open = async (id: string) => {
      const home = tempDirOf(id);
      const root = path.join(home, 'f');
      fs.mkdirSync(root);
      const store = await FsFolderStore.create({ root, stateDir: path.join(home, 'state') });
      const log: string[] = [];
      const engine = await Engine.open({
        device: id, name: id, software: 'roam-test', folders: [FOLDER],
        newIndexId: () => randomBytes(8).toString('hex'),
        stores: new Map([['f', store]]), hasher: nodeHasher, clock: { now: Date.now }, log: (l) => log.push(l),
      });
      cleanup(() => engine.close());
      return { id, root, engine, log, trash: path.join(home, 'state', 'trash') };
    };
    const a = await open('00000000000000a1');
    const b = await open('00000000000000b2');
    const pairs: LinkPair[] = [];
    const connect = async () => {
      const p = await linkPair({ id: a.id, engine: a.engine }, { id: b.id, engine: b.engine });
      pairs.push(p);
      cleanup(() => p.close());
      return p;
    };
    const name = 'p/s.jsonl';
    const base = lines('base', 0, 10);
    fs.mkdirSync(path.join(a.root, 'p'));
    fs.writeFileSync(path.join(a.root, name), base);
    await a.engine.scan('f');
    let p = await connect();
    await until(() => fs.existsSync(path.join(b.root, name)) && fs.readFileSync(path.join(b.root, name), 'utf8') === base, { what: 'the base to reach B' });
    await a.engine.settled();
    await b.engine.settled();
    await p.close();

    // Apart: A appends (scanned); B appends (scanned), then appends more that no scan saw yet
    // (a tool wrote just before the devices met). A's last line is the newer: A's keeps the name.
    const onA = lines('a', 0, 4);
    const onB1 = lines('b', 0, 3);
    const onB2 = lines('b', 3, 2);
    const t = Date.now() / 1000;
    fs.appendFileSync(path.join(a.root, name), onA);
    fs.utimesSync(path.join(a.root, name), t, t);
    await a.engine.scan('f');
    fs.appendFileSync(path.join(b.root, name), onB1);
    fs.utimesSync(path.join(b.root, name), t - 120, t - 120);
    await b.engine.scan('f');
    fs.appendFileSync(path.join(b.root, name), onB2);
    fs.utimesSync(path.join(b.root, name), t - 60, t - 60);

    p = await connect();
    const fork = `p/s.fork-${chainHash(base + onB1 + onB2).slice(0, 12)}.jsonl`;
    const read = (root: string, n: string) => (fs.existsSync(path.join(root, n)) ? fs.readFileSync(path.join(root, n), 'utf8') : null);
    await until(() => [a, b].every((d) => read(d.root, name) === base + onA && read(d.root, fork) === base + onB1 + onB2), {
      timeoutMs: 10_000,
      what: "A's continuation under the name and B's in a fork, on both devices",
      detail: () => ({ a: [read(a.root, name)?.length, read(a.root, fork)?.length], b: [read(b.root, name)?.length, read(b.root, fork)?.length], aLog: a.log, bLog: b.log }),
    });
  });
});
