// The conformance suite's driver interface: the same scenarios run against roam and against the
// reference (Syncthing 1.19), each behind one Driver. Plus `readTree`, the snapshot both drivers
// use so that outcomes compare field by field.
import { createHash } from 'node:crypto';
import { lstat, readFile, readdir, readlink } from 'node:fs/promises';
import path from 'node:path';

/** One item of a folder, as a scenario compares it across devices and drivers. */
export interface TreeEntry {
  /** Relative to the folder, POSIX separators. */
  path: string;
  type: 'file' | 'dir' | 'symlink';
  /** Bytes (files); 0 otherwise. */
  size: number;
  /** Whole milliseconds (files); 0 for directories and symlinks, whose times are not replicated. */
  mtimeMs: number;
  /** Permission bits (`mode & 0o7777`); 0 for symlinks. */
  mode: number;
  /** Hex SHA-256 of the content (files) or of the target (symlinks); '' for directories. */
  sha256: string;
  /** The content of a small (≤ 4 KiB) UTF-8 text file, or a symlink's target: readable diffs. */
  content?: string;
}

export interface Device {
  readonly name: string;
  /** Absolute path of this scenario's folder on this device. */
  folder(scenario: string): string;
}

export interface SettledOptions {
  /** Give up (with an error naming the conditions still unmet) after this long; default 30 s. */
  timeoutMs?: number;
}

export interface Driver {
  readonly kind: 'roam' | 'syncthing';
  /** Spawns the devices (e.g. ['A', 'B']), every scenario a folder shared by all of them. */
  start(devices: string[], scenarios: string[]): Promise<void>;
  device(name: string): Device;
  /** Cuts the link between two devices, on both sides; resolves once they are disconnected. */
  pause(a: string, b: string): Promise<void>;
  /** Restores the link; reconnecting is awaited by `settled`. */
  resume(a: string, b: string): Promise<void>;
  /** Stops one device cleanly (its folders stay on disk); `startDevice` brings it back. */
  stopDevice(name: string): Promise<void>;
  startDevice(name: string): Promise<void>;
  /**
   * Forces a scan of the scenario's folder on every running device, then polls until every running
   * device agrees with its running, unpaused peers and has nothing left to do. Never a sleep.
   */
  settled(scenario: string, opts?: SettledOptions): Promise<void>;
  /** The folder's items on one device, sorted by path, bookkeeping files excluded (see `readTree`). */
  tree(name: string, scenario: string): Promise<TreeEntry[]>;
  /** The device id part of a conflict copy's name made by this device (Syncthing: 7 characters). */
  conflictIdOf(name: string): string;
  /**
   * The 64-bit short id that breaks conflict ties (equal mtimes: the version from the device with the
   * larger short id loses). Syncthing: the first 8 bytes of the device id; roam: the first 16 hex
   * digits of sha256(peer id).
   */
  shortIdOf(name: string): bigint;
  /**
   * Replaces one device's ignore rules for the scenario's folder (`.stignore` syntax, one pattern a
   * line) and makes the running device apply them now. Rules apply only on the device that has them.
   */
  setIgnores(name: string, scenario: string, lines: readonly string[]): Promise<void>;
  /** Stops everything and removes the temp dirs; idempotent, safe after a failed `start`. */
  stop(): Promise<void>;
}

/** Names that belong to the sync tool, not to the user: at the folder's top level… */
const TOP_LEVEL_EXCLUDED = new Set(['.stfolder', '.stignore', '.stversions', '.roamignore']);
/** …and temp files at any depth (Syncthing's `.syncthing.<name>.tmp`, roam's `.roam-tmp-*`). */
const TEMP_FILE = /^(\.syncthing\..*\.tmp|\.roam-tmp-.*)$/;
const SMALL_TEXT = 4096;
const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Snapshot of a folder, sorted by path. `extraTopLevel` names more top-level entries to leave out
 * (roam's state dir and trash, if a driver keeps them inside the folder).
 */
export async function readTree(root: string, extraTopLevel: readonly string[] = []): Promise<TreeEntry[]> {
  const out: TreeEntry[] = [];
  const walk = async (rel: string): Promise<void> => {
    for (const name of await readdir(path.join(root, rel))) {
      const p = rel === '' ? name : `${rel}/${name}`;
      if (TEMP_FILE.test(name) || (rel === '' && (TOP_LEVEL_EXCLUDED.has(name) || extraTopLevel.includes(name)))) continue;
      const abs = path.join(root, p);
      const st = await lstat(abs, { bigint: true });
      const mode = Number(st.mode & 0o7777n);
      if (st.isDirectory()) {
        out.push({ path: p, type: 'dir', size: 0, mtimeMs: 0, mode, sha256: '' });
        await walk(p);
      } else if (st.isSymbolicLink()) {
        const target = await readlink(abs);
        out.push({ path: p, type: 'symlink', size: 0, mtimeMs: 0, mode: 0, sha256: sha256(target), content: target });
      } else if (st.isFile()) {
        const data = await readFile(abs);
        const entry: TreeEntry = { path: p, type: 'file', size: data.length, mtimeMs: Number(st.mtimeNs / 1_000_000n), mode, sha256: sha256(data) };
        const text = data.length <= SMALL_TEXT ? smallText(data) : undefined;
        if (text !== undefined) entry.content = text;
        out.push(entry);
      } else {
        throw new Error(`readTree: ${abs} is neither a file, a directory nor a symlink`);
      }
    }
  };
  await walk('');
  return out.sort((x, y) => (x.path < y.path ? -1 : x.path > y.path ? 1 : 0));
}

function sha256(data: string | Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

/** The bytes as text if they are valid UTF-8 without NUL, else undefined. */
function smallText(data: Uint8Array): string | undefined {
  if (data.includes(0)) return undefined;
  try {
    return utf8.decode(data);
  } catch {
    return undefined;
  }
}
