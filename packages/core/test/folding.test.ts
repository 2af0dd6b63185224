/**
 * Names a file system folds (folding.ts): the probe on this machine's temp directory, and the
 * decision on a stand-in. A real case-insensitive mount (FAT through FUSE) is exercised end to end
 * in test/e2e/case-fold.test.ts, probe included; NFC/NFD folding (APFS, HFS+) has no file system
 * here that does it, so it is tested on the decision only, with `setFolding` as the stand-in: the
 * listing is real, the folding is declared.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ErrorCodes } from '../src/errors.js';
import { LineChain } from '../src/log/chain.js';
import { GENESIS } from '../src/log/position.js';
import { FsFolderStore, lstatItem, nodeHasher } from '../src/node/index.js';
import { foldKey, probeFolding, setFolding } from '../src/node/folding.js';

const enc = (s: string) => new TextEncoder().encode(s);
const line = enc('{"x":1}\n');
const lineEnd = (() => {
  const c = new LineChain(nodeHasher, GENESIS);
  c.push(line);
  return c.pos;
})();

let base: string;
let root: string;

beforeEach(() => {
  base = fs.mkdtempSync(path.join(os.tmpdir(), 'roam-folding-'));
  root = path.join(base, 'folder');
  fs.mkdirSync(root);
  root = fs.realpathSync(root);
});

afterEach(() => {
  setFolding(root, null);
  fs.rmSync(base, { recursive: true, force: true });
});

const NFC = 'caf\u00e9.jsonl';
const NFD = NFC.normalize('NFD');

describe('folding', () => {
  it("the probe: this machine's temp directory folds neither case nor normalization, and the probe leaves nothing", async () => {
    expect(await probeFolding(root)).toEqual({ case: false, unicode: false });
    expect(fs.readdirSync(root)).toEqual([]);
  });

  it('foldKey: case, normalization, both', () => {
    expect(foldKey('A.jsonl', { case: true, unicode: false })).toBe(foldKey('a.jsonl', { case: true, unicode: false }));
    expect(foldKey('A.jsonl', { case: false, unicode: true })).not.toBe(foldKey('a.jsonl', { case: false, unicode: true }));
    expect(foldKey(NFC, { case: false, unicode: true })).toBe(foldKey(NFD, { case: false, unicode: true }));
    expect(foldKey(NFC, { case: true, unicode: false })).not.toBe(foldKey(NFD, { case: true, unicode: false }));
  });

  it('on a folder that folds normalization (stand-in): the other spelling is a clash, never that file; the exact name is itself', async () => {
    setFolding(root, { case: false, unicode: true });
    fs.mkdirSync(path.join(root, 'p'));
    fs.writeFileSync(path.join(root, 'p', NFC), 'first\n');
    expect((await lstatItem(root, `p/${NFC}`))?.size).toBe(6);
    await expect(lstatItem(root, `p/${NFD}`)).rejects.toMatchObject({ code: ErrorCodes.NAME_CLASH, message: expect.stringMatching(/differs only by Unicode normalization/) });
    expect(await lstatItem(root, 'p/other.jsonl')).toBeNull();
  });

  it('on a folder that folds case (stand-in): a peer\'s a.jsonl beside A.jsonl is refused by the store, A.jsonl untouched; a directory spelled otherwise too', async () => {
    setFolding(root, { case: true, unicode: false });
    const store = await FsFolderStore.create({ root, stateDir: path.join(base, 'state') });
    await store.open();
    await store.appendLog('Proj/A.jsonl', GENESIS, [line], lineEnd, 1000);
    await expect(store.appendLog('Proj/a.jsonl', GENESIS, [line], lineEnd, 1000)).rejects.toMatchObject({ code: ErrorCodes.NAME_CLASH, message: expect.stringMatching(/Proj\/a\.jsonl differs only by case from Proj\/A\.jsonl/) });
    await expect(store.appendLog('proj/b.jsonl', GENESIS, [line], lineEnd, 1000)).rejects.toMatchObject({ code: ErrorCodes.NAME_CLASH });
    const staged = await store.stage('Proj/x.json').catch((e: unknown) => e);
    expect(staged).not.toBeInstanceOf(Error); // an unrelated new name is fine
    await (staged as { abort(): Promise<void> }).abort();
    await expect(store.stage('Proj/A.JSONL')).rejects.toMatchObject({ code: ErrorCodes.NAME_CLASH });
    // A scan asked for the other spelling sees nothing there (it must not read A.jsonl as a.jsonl).
    expect(await store.scan(['Proj/a.jsonl'])).toEqual([]);
    expect(fs.readdirSync(path.join(root, 'Proj'))).toEqual(['A.jsonl']);
    expect(fs.readFileSync(path.join(root, 'Proj', 'A.jsonl'), 'utf8')).toBe('{"x":1}\n');
    await store.close();
  });
});
