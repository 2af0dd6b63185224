/**
 * File systems that fold names: on macOS's and Windows' defaults (APFS, HFS+, NTFS, FAT) `A.jsonl`
 * and `a.jsonl` are one file, and on APFS/HFS+ so are `é` written precomposed (NFC) and decomposed
 * (NFD). A peer on Linux can hold both names; written here, one would land on the other.
 *
 * - Per folder, a probe decides (once, the first time the folder's items are looked up): it
 *   creates a hidden temp file (`.roam-tmp-` prefix: scans skip it) and checks whether its
 *   case-swapped name, and an NFD name of an NFC one, resolve to it (read back its random content).
 * - On a folding folder, an item is looked up by its exact name: each component of its path must
 *   be an entry of its directory as it is spelled. An entry that equals it only under the folder's
 *   folding is a clash (ROAM_NAME_CLASH): the store neither reads it as that item nor writes, copies,
 *   renames or removes through it. The name that was there first stays; the other is not synced to
 *   this device (the replicator reports the failure, and retries when the peer changes it).
 * - A folder that does not fold (Linux's usual file systems) costs nothing: no listing, one probe.
 */
import { randomBytes } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { ErrorCodes, RoamError } from '../errors.js';

export interface Folding {
  /** Names that differ only by letter case are one file. */
  readonly case: boolean;
  /** Names that differ only by Unicode normalization (NFC / NFD) are one file. */
  readonly unicode: boolean;
}

export const NO_FOLDING: Folding = { case: false, unicode: false };
const PROBE_PREFIX = '.roam-tmp-probe-';
const probes = new Map<string, Promise<Folding>>();


/**
 * Probes whether `dir` folds case and Unicode normalization: creates a file with random content and
 * reads it back under the other spelling (not by inode: FUSE file systems may number each spelling
 * apart). The other spelling is absent before (a random name), so finding it there is the folding.
 */
export async function probeFolding(dir: string): Promise<Folding> {
  const id = randomBytes(6).toString('hex');
  const probe = async (made: string, other: string): Promise<boolean> => {
    const file = path.join(dir, made);
    const mark = randomBytes(16);
    if ((await fsp.lstat(path.join(dir, other)).catch(() => null)) !== null) return false;
    try {
      await fsp.writeFile(file, mark, { flag: 'wx', mode: 0o600 });
    } catch {
      return false; // read-only, or the name is refused: nothing is written here either
    }
    try {
      const back = await fsp.readFile(path.join(dir, other)).catch(() => null);
      return back !== null && back.equals(mark);
    } finally {
      await fsp.unlink(file).catch(() => undefined);
    }
  };
  const name = `${PROBE_PREFIX}${id}-Case`;
  const nfc = `${PROBE_PREFIX}${id}-\u00e9`;
  return { case: await probe(name, name.toUpperCase()), unicode: await probe(nfc, nfc.normalize('NFD')) };
}

/** The folder's folding, probed once per root (a failed probe: no folding). */
export function foldingOf(root: string): Promise<Folding> {
  let p = probes.get(root);
  if (!p) {
    p = probeFolding(root).catch(() => NO_FOLDING);
    probes.set(root, p);
  }
  return p;
}

/** For tests: this root folds as `folding` (a stand-in where no folding file system can be mounted); null forgets it. */
export function setFolding(root: string, folding: Folding | null): void {
  if (folding) probes.set(root, Promise.resolve(folding));
  else probes.delete(root);
}

/** The key two names share when the folder cannot tell them apart. */
export function foldKey(name: string, folding: Folding): string {
  const n = folding.unicode ? name.normalize('NFC') : name;
  return folding.case ? n.toLowerCase() : n;
}

/**
 * On a folding folder: throws ROAM_NAME_CLASH when a component of `name` exists only as another
 * spelling of it (same under the folding, not the same string). Stops at the first missing level.
 */
export async function checkExactName(root: string, name: string): Promise<void> {
  const folding = await foldingOf(root);
  if (!folding.case && !folding.unicode) return;
  let dir = root;
  const parts = name.split('/');
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i]!;
    const entries = await fsp.readdir(dir).catch(() => null);
    if (!entries || entries.includes(part)) {
      if (!entries) return;
      dir = path.join(dir, part);
      continue;
    }
    const key = foldKey(part, folding);
    const other = entries.find((e) => foldKey(e, folding) === key);
    if (other === undefined) return; // absent under any spelling
    const there = [...parts.slice(0, i), other].join('/');
    const how = folding.case && other.toLowerCase() === part.toLowerCase() ? 'case' : 'Unicode normalization';
    throw new RoamError(
      ErrorCodes.NAME_CLASH,
      `${name} differs only by ${how} from ${there}, which is here already; this folder's file system does not tell the two apart, so ${name} is not synced to this device (rename one of them on the device that has both)`,
      { name, there },
    );
  }
}
