/**
 * A full scan examines several items at once and groups their index records into shared journal
 * writes: every change is still reported once, in the walk's order, every record is durable (a
 * reopened store reports nothing new), and a file changed while the store was closed (same size
 * and inode, new mtime) is examined again.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { FsFolderStore } from '../src/node/index.js';
import { cleanupAfterEach, openStore, tempRoot } from './support/temp.js';

const cleanup = cleanupAfterEach();

describe('scan with items examined side by side', () => {
  it('reports each change once in walk order, journals them all with fewer fsyncs than items, and rescans a file touched while closed', async () => {
    const dirs = tempRoot(cleanup, 'roam-scan-conc-');
    const names: string[] = [];
    for (let d = 0; d < 6; d++) {
      fs.mkdirSync(path.join(dirs.root, `p${d}`));
      for (let i = 0; i < 20; i++) {
        const name = `p${d}/s${String(i).padStart(2, '0')}${i % 2 ? '.jsonl' : '.txt'}`;
        fs.writeFileSync(path.join(dirs.root, name), `{"d":${d},"i":${i},"pad":"${'z'.repeat(i * 300)}"}\n`);
        names.push(name);
      }
    }
    const store = await FsFolderStore.create(dirs);
    await store.open();
    const before = store.stats.fsyncs;
    const changes = await store.scan();
    const fsyncs = store.stats.fsyncs - before;
    expect(changes.map((c) => c.state.name)).toEqual(names);
    expect(changes.every((c) => c.change === 'replace')).toBe(true);
    expect(fsyncs).toBeLessThan(names.length);
    await store.close();

    // Same size and inode, new mtime: must be examined again (and is a change: its mtime moved).
    const touched = path.join(dirs.root, 'p3/s04.txt');
    const later = new Date(fs.statSync(touched).mtimeMs + 5_000);
    fs.utimesSync(touched, later, later);
    fs.writeFileSync(path.join(dirs.root, 'p5/s07.jsonl'), fs.readFileSync(path.join(dirs.root, 'p5/s07.jsonl'), 'utf8').replace('"d":5', '"d":9'));
    const again = await openStore(cleanup, dirs);
    const second = await again.scan();
    expect(second.map((c) => [c.state.name, c.change])).toEqual([
      ['p3/s04.txt', 'replace'],
      ['p5/s07.jsonl', 'replace'],
    ]);
    expect(await again.scan()).toEqual([]);
  });
});

describe('the start-up scan reusing the open walk (reuseOpenWalk)', () => {
  it('still sees edits made after the walk, and walks again once anything wrote through the store', async () => {
    const dirs = tempRoot(cleanup, 'roam-scan-walk-');
    for (const n of ['a.txt', 'b.txt', 'c.txt']) fs.writeFileSync(path.join(dirs.root, n), n);
    const first = await openStore(cleanup, dirs, { reuseOpenWalk: true });
    expect((await first.scan()).map((c) => c.state.name)).toEqual(['a.txt', 'b.txt', 'c.txt']);
    await first.close();

    // Between open (its walk) and the scan: an edit of a walked file is seen (stat'ed at scan time).
    const store = await openStore(cleanup, dirs, { reuseOpenWalk: true });
    fs.writeFileSync(path.join(dirs.root, 'a.txt'), 'edited');
    fs.rmSync(path.join(dirs.root, 'c.txt'));
    expect((await store.scan()).map((c) => [c.state.name, c.change])).toEqual([
      ['a.txt', 'replace'],
      ['c.txt', 'delete'],
    ]);
    // Used once: the next full scan walks again and finds a new file.
    fs.writeFileSync(path.join(dirs.root, 'd.txt'), 'd');
    expect((await store.scan()).map((c) => c.state.name)).toEqual(['d.txt']);
    await store.close();

    // A write through the store after open drops the walk: the scan walks again.
    const third = await openStore(cleanup, dirs, { reuseOpenWalk: true });
    fs.writeFileSync(path.join(dirs.root, 'e.txt'), 'e');
    const b = (await third.open()).find((s) => s.name === 'b.txt')!;
    await third.remove('b.txt', b);
    expect((await third.scan()).map((c) => [c.state.name, c.change])).toEqual([['e.txt', 'replace']]);
  });
});
