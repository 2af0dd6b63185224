/**
 * Watches one synced folder with chokidar and hands changed item names to the engine in small
 * batches. The store's own writes come back here too, but the store already recorded them, so
 * the scan they trigger finds nothing to report: they never echo back as local changes.
 */
import { readdir } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import { watch, type FSWatcher } from 'chokidar';

/** How long to gather events before scanning: long enough to coalesce a burst, a few ms. */
const BATCH_MS = 3;
/**
 * chokidar passes at most one `change` per file every 50 ms and drops the rest, so the last writes
 * of a burst can arrive with no event at all. Each changed name is looked at once more this long
 * after its last event, which catches whatever the dropped events would have shown.
 */
const TRAILING_MS = 80;
/**
 * chokidar reads a new directory before it watches it, so a file written into a directory just
 * created can pass unseen (that is how a tool starts a new project). A new directory is answered
 * with a look at every file under it at once and again after TRAILING_MS (only that directory: a
 * rescan of the whole folder per new directory made an initial sync, which creates thousands of
 * them, quadratic); and the whole folder is rescanned every RESCAN_MS as a safety net (a stat per
 * file, no content read when unchanged).
 */
const RESCAN_MS = 5 * 60_000;
/**
 * chokidar starts watching a new directory some time after its `addDir` event (under load, well
 * past TRAILING_MS): a write into it in between raises no event. One more look under it this long
 * after closes that gap (seen when a tool appended to a log roamd had just received into a new
 * project directory).
 */
const DIR_SETTLE_MS = 1_000;
/** The folder's own ignore rules: not an item, but a change to it reloads the rules. */
const IGNORE_FILE = '.roamignore';

export class FolderWatcher {
  private readonly watcher: FSWatcher;
  private pending = new Set<string>();
  private full = false;
  private timer: NodeJS.Timeout | null = null;
  private readonly trailing = new Map<string, NodeJS.Timeout>();
  /** New directories to look under again, each after TRAILING_MS and DIR_SETTLE_MS. */
  private readonly dirTimers = new Set<NodeJS.Timeout>();
  private rescan: NodeJS.Timeout | null = null;
  private closed = false;

  private constructor(watcher: FSWatcher) {
    this.watcher = watcher;
  }

  /**
   * Resolves once the initial walk is done. `onChange` gets item names (relative, POSIX), or
   * `null` when the whole folder must be rescanned (a directory went away).
   */
  static async start(
    root: string,
    ignores: (name: string) => boolean,
    onChange: (names: string[] | null) => void,
    hooks: { onError: (err: unknown) => void; onRulesChanged?: () => void },
  ): Promise<FolderWatcher> {
    const rel = (p: string) => relative(root, p).split(sep).join('/');
    const skip = (name: string) => name.split('/').some((c) => c.startsWith('.roam-tmp-')) || ignores(name);
    const w = watch(root, {
      ignoreInitial: true,
      followSymlinks: false,
      ignored: (p: string) => {
        const name = rel(p);
        if (name === IGNORE_FILE) return false;
        return name !== '' && !name.startsWith('..') && skip(name);
      },
    });
    const fw = new FolderWatcher(w);
    const flush = () => {
      fw.timer = null;
      const names = fw.full ? null : [...fw.pending];
      fw.pending = new Set();
      fw.full = false;
      onChange(names);
    };
    const queue = (name: string | null) => {
      if (name === null) fw.full = true;
      else fw.pending.add(name);
      fw.timer ??= setTimeout(flush, BATCH_MS);
    };
    const changed = (p: string) => {
      const name = rel(p);
      if (name === IGNORE_FILE) {
        hooks.onRulesChanged?.();
        return;
      }
      queue(name);
      clearTimeout(fw.trailing.get(name));
      fw.trailing.set(name, setTimeout(() => {
        fw.trailing.delete(name);
        queue(name);
      }, TRAILING_MS));
    };
    w.on('add', changed);
    w.on('change', changed);
    w.on('unlink', (p) => (rel(p) === IGNORE_FILE ? hooks.onRulesChanged?.() : queue(rel(p))));
    w.on('unlinkDir', () => queue(null));
    /** Queues every file under a directory (none if it is gone: its removal is an event of its own). */
    const lookUnder = (dir: string) => {
      void filesUnder(root, rel(dir), skip).then(
        (names) => {
          if (!fw.closed) for (const n of names) queue(n);
        },
        (err: unknown) => hooks.onError(err),
      );
    };
    w.on('addDir', (p) => {
      if (rel(p) === '') return;
      lookUnder(p);
      for (const ms of [TRAILING_MS, DIR_SETTLE_MS]) {
        const t = setTimeout(() => {
          fw.dirTimers.delete(t);
          lookUnder(p);
        }, ms);
        fw.dirTimers.add(t);
      }
    });
    w.on('error', hooks.onError);
    await new Promise<void>((resolve) => w.once('ready', () => resolve()));
    fw.rescan = setInterval(() => queue(null), RESCAN_MS);
    fw.rescan.unref();
    return fw;
  }

  async close(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    for (const t of this.trailing.values()) clearTimeout(t);
    for (const t of this.dirTimers) clearTimeout(t);
    this.dirTimers.clear();
    if (this.rescan) clearInterval(this.rescan);
    this.closed = true;
    this.trailing.clear();
    await this.watcher.close();
  }
}

/** The regular files under `dir` (a name relative to `root`), recursively, as item names; none if it is gone. */
async function filesUnder(root: string, dir: string, skip: (name: string) => boolean): Promise<string[]> {
  const out: string[] = [];
  const visit = async (d: string): Promise<void> => {
    let entries;
    try {
      entries = await readdir(join(root, ...d.split('/')), { withFileTypes: true });
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ENOTDIR') return; // removed or replaced meanwhile
      throw err;
    }
    for (const e of entries) {
      const name = `${d}/${e.name}`;
      if (skip(name)) continue;
      if (e.isDirectory()) await visit(name);
      else if (e.isFile()) out.push(name);
    }
  };
  await visit(dir);
  return out;
}
