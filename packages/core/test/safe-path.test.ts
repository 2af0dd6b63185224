import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ErrorCodes } from '../src/errors.js';
import type { DiskState } from '../src/items.js';
import { LineChain } from '../src/log/chain.js';
import { sha256Of } from '../src/log/hash.js';
import { GENESIS } from '../src/log/position.js';
import { FsFolderStore, nodeHasher } from '../src/node/index.js';

const enc = (s: string) => new TextEncoder().encode(s);
const line = enc('{"x":1}\n');
const lineEnd = (() => {
  const c = new LineChain(nodeHasher, GENESIS);
  c.push(line);
  return c.pos;
})();

let base: string;
let root: string;
let outside: string;
let store: FsFolderStore;
let good: DiskState;

/** Every path under `dir` with a digest of its content or link target, to compare before/after. */
function snapshot(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const visit = (d: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      const rel = path.relative(dir, p);
      if (e.isSymbolicLink()) out[rel] = `-> ${fs.readlinkSync(p)}`;
      else if (e.isDirectory()) {
        out[rel] = 'dir';
        visit(p);
      } else out[rel] = createHash('sha256').update(fs.readFileSync(p)).digest('hex');
    }
  };
  visit(dir);
  return out;
}

beforeEach(async () => {
  base = fs.mkdtempSync(path.join(os.tmpdir(), 'roam-safe-path-'));
  root = path.join(base, 'root');
  outside = path.join(base, 'outside');
  fs.mkdirSync(root);
  fs.mkdirSync(path.join(outside, 'deep'), { recursive: true });
  fs.writeFileSync(path.join(outside, 'secret.jsonl'), 'secret\n');
  fs.writeFileSync(path.join(outside, 'secret.txt'), 'secret');
  store = await FsFolderStore.create({ root, stateDir: path.join(base, 'state') });
  await store.open();
  good = await store.appendLog('good.jsonl', GENESIS, [line], lineEnd, 1000);
});

afterEach(async () => {
  await store.close().catch(() => undefined);
  fs.rmSync(base, { recursive: true, force: true });
});

const hostile = [
  '../x',
  '../x.jsonl',
  '/etc/passwd',
  '/tmp/x.jsonl',
  'a/../../b',
  'a/../../b.jsonl',
  'a\u0000b',
  './a',
  'a//b',
  'a/',
  '',
  'C:/x',
  'c:x.jsonl',
  'a\\..\\b',
  '..',
  'a\nb.jsonl',
  'x'.repeat(256),
  'a/'.repeat(64) + 'b',
  'abcd/'.repeat(820) + 'x.jsonl', // > 4096 bytes
];

describe('hostile names', () => {
  it.each(hostile.map((n) => [JSON.stringify(n).slice(0, 40), n]))('refuses %s everywhere with a ROAM_PATH_* error', async (_label, name) => {
    const before = snapshot(base);
    const refused = expect.objectContaining({ code: expect.stringMatching(/^ROAM_PATH_(INVALID|ESCAPE)$/) });
    await expect(store.appendLog(name, GENESIS, [line], lineEnd, 1000)).rejects.toEqual(refused);
    await expect(store.stage(name)).rejects.toEqual(refused);
    await expect(store.rename('good.jsonl', name, good)).rejects.toEqual(refused);
    await expect(store.rename(name, 'good2.jsonl', good)).rejects.toEqual(refused);
    await expect(store.remove(name, good)).rejects.toEqual(refused);
    await expect(store.read(name, 0, 10)).rejects.toEqual(refused);
    await expect(store.positionAt(name, 0)).rejects.toEqual(refused);
    await expect(store.scan([name])).rejects.toEqual(refused);
    expect(snapshot(base)).toEqual(before);
  });

  it('classifies escapes as ROAM_PATH_ESCAPE', async () => {
    for (const name of ['../x.jsonl', '/etc/passwd', 'a/../../b', 'C:/x']) {
      await expect(store.stage(name)).rejects.toMatchObject({ code: ErrorCodes.PATH_ESCAPE });
    }
  });
});

describe('symlinks', () => {
  beforeEach(() => {
    fs.symlinkSync(outside, path.join(root, 'linkdir')); // a directory symlink leading outside
    fs.symlinkSync(path.join(outside, 'secret.jsonl'), path.join(root, 'evil.jsonl')); // a file symlink
    fs.symlinkSync(path.join(outside, 'new.jsonl'), path.join(root, 'dangling.jsonl')); // to a file not there yet
    fs.symlinkSync(path.join(outside, 'secret.txt'), path.join(root, 'evil.txt'));
  });

  it('refuses writes through a symlinked parent or at a symlinked item with ROAM_PATH_ESCAPE', async () => {
    const before = snapshot(outside);
    const escape = { code: ErrorCodes.PATH_ESCAPE };
    for (const name of ['linkdir/secret.jsonl', 'linkdir/new.jsonl', 'linkdir/deep/new.jsonl', 'linkdir/made/new.jsonl', 'evil.jsonl', 'dangling.jsonl']) {
      await expect(store.appendLog(name, GENESIS, [line], lineEnd, 1000)).rejects.toMatchObject(escape);
      await expect(store.stage(name)).rejects.toMatchObject(escape);
      await expect(store.rename('good.jsonl', name, good)).rejects.toMatchObject(escape);
    }
    for (const name of ['linkdir/secret.txt', 'evil.txt', 'linkdir/deep/x.txt']) {
      await expect(store.stage(name)).rejects.toMatchObject(escape);
    }
    expect(snapshot(outside)).toEqual(before);
    expect(fs.readFileSync(path.join(root, 'good.jsonl'))).toEqual(Buffer.from(line));
  });

  it('refuses to replace or remove through a symlink, and a commit whose parent became one', async () => {
    const before = snapshot(outside);
    const staged = await store.stage('sub/file.txt');
    await staged.write(0, enc('data'));
    fs.rmSync(path.join(root, 'sub'), { recursive: true });
    fs.symlinkSync(outside, path.join(root, 'sub'));
    const target = { kind: 'file' as const, size: 4, lines: 0, hash: sha256Of(nodeHasher, [enc('data')]), mtimeMs: 1, mode: 0o644 };
    await expect(staged.commit(target, null)).rejects.toMatchObject({ code: ErrorCodes.PATH_ESCAPE });
    await expect(store.remove('evil.jsonl', { ...good, name: 'evil.jsonl' })).rejects.toMatchObject({ code: ErrorCodes.PATH_ESCAPE });
    expect(snapshot(outside)).toEqual(before);
  });

  it('never scans or reads through symlinks', async () => {
    const changes = await store.scan();
    expect(changes).toEqual([]);
    expect(await store.scan(['linkdir/secret.jsonl', 'evil.jsonl'])).toEqual([]);
    expect(await store.read('evil.jsonl', 0, 100)).toEqual(new Uint8Array(0));
    expect(store.stat('evil.jsonl')).toBeNull();
  });
});
