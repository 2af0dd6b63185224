/**
 * Watches one synced folder and hands changed item names to the engine in small batches. The
 * store's own writes come back here too, but the store already recorded them, so the scan they
 * trigger finds nothing to report: they never echo back as local changes.
 *
 * On Linux: one inotify watch per directory (fs.watch, not recursive), which reports every entry
 * created, removed, renamed or written in it, by name. Files get no watch of their own: chokidar,
 * used before, watched every file and re-read a directory (an lstat per entry) on each event in it,
 * which for 10,000 files cost ~5 s before roamd was ready, ~150 MB of RSS, and much of an initial
 * sync's CPU (bench W2, W4, W5). Elsewhere (macOS, Windows) one recursive fs.watch on the root,
 * which those platforms implement natively.
 */
import { watch, type FSWatcher } from 'node:fs';
import { lstat, readdir } from 'node:fs/promises';
import { join, sep } from 'node:path';

/** How long to gather events before scanning: long enough to coalesce a burst, a few ms. */
const BATCH_MS = 3;
/**
 * Each changed name is looked at once more this long after its last event: a safety net for an
 * event coalesced or lost by the platform (the scan of an unchanged file is a stat).
 */
const TRAILING_MS = 80;
/** The whole folder is rescanned this often as a safety net (a stat per file, no content read when unchanged). */
const RESCAN_MS = 5 * 60_000;
/** The folder's own ignore rules: not an item, but a change to it reloads the rules. */
const IGNORE_FILE = '.roamignore';
/** Staged writes of the store: never items. */
const TEMP_PREFIX = '.roam-tmp-';

export class FolderWatcher {
  /** Linux: the watch of each directory, by name ('' for the root). Elsewhere: the one recursive watch. */
  private readonly dirs = new Map<string, FSWatcher>();
  private pending = new Set<string>();
  private full = false;
  private timer: NodeJS.Timeout | null = null;
  private readonly trailing = new Map<string, NodeJS.Timeout>();
  private rescan: NodeJS.Timeout | null = null;
  private closed = false;

  private constructor(
    private readonly root: string,
    private readonly ignores: (name: string) => boolean,
    private readonly onChange: (names: string[] | null) => void,
    private readonly hooks: { onError: (err: unknown) => void; onRulesChanged?: () => void },
  ) {}

  /**
   * Resolves once the folder is watched (every directory, on Linux). `onChange` gets item names
   * (relative, POSIX), or `null` when the whole folder must be rescanned (a directory went away).
   */
  static async start(
    root: string,
    ignores: (name: string) => boolean,
    onChange: (names: string[] | null) => void,
    hooks: { onError: (err: unknown) => void; onRulesChanged?: () => void },
  ): Promise<FolderWatcher> {
    const fw = new FolderWatcher(root, ignores, onChange, hooks);
    if (process.platform === 'linux') await fw.watchTree('');
    else fw.watchRecursive();
    fw.rescan = setInterval(() => fw.queue(null), RESCAN_MS);
    fw.rescan.unref();
    return fw;
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    for (const t of this.trailing.values()) clearTimeout(t);
    this.trailing.clear();
    if (this.rescan) clearInterval(this.rescan);
    for (const w of this.dirs.values()) w.close();
    this.dirs.clear();
  }

  // ---------------------------------------------------------------- events

  private skip(name: string): boolean {
    return name.split('/').some((c) => c.startsWith(TEMP_PREFIX)) || this.ignores(name);
  }

  private flush = (): void => {
    this.timer = null;
    const names = this.full ? null : [...this.pending];
    this.pending = new Set();
    this.full = false;
    if (!this.closed) this.onChange(names);
  };

  private queue(name: string | null): void {
    if (this.closed) return;
    if (name === null) this.full = true;
    else this.pending.add(name);
    this.timer ??= setTimeout(this.flush, BATCH_MS);
  }

  /** A file (or what may be one) changed: look at it now and once more a moment later. */
  private changed(name: string): void {
    this.queue(name);
    clearTimeout(this.trailing.get(name));
    this.trailing.set(name, setTimeout(() => {
      this.trailing.delete(name);
      this.queue(name);
    }, TRAILING_MS));
  }

  /** An event about `name` (relative, POSIX): `rename` (created, removed, moved) or `change` (written). */
  private onEvent(kind: string, name: string): void {
    if (this.closed) return;
    if (name === IGNORE_FILE) {
      this.hooks.onRulesChanged?.();
      return;
    }
    if (this.skip(name)) return;
    if (kind === 'change' && !this.dirs.has(name)) {
      this.changed(name); // written: a file (a directory's own metadata changes are of no interest)
      return;
    }
    // Created, removed or moved: a file, or a directory to watch (or to stop watching).
    void lstat(join(this.root, ...name.split('/'))).then(
      (st) => {
        if (st.isDirectory()) {
          if (process.platform === 'linux') void this.newDirectory(name);
          else void this.filesUnder(name).then((names) => names.forEach((n) => this.changed(n)), this.hooks.onError);
        } else this.changed(name);
      },
      () => {
        // Gone. A directory that went away takes its items with it: rescan everything.
        if (this.dirs.has(name) || process.platform !== 'linux') {
          this.unwatchTree(name);
          this.queue(null);
        }
        this.changed(name);
      },
    );
  }

  // ---------------------------------------------------------------- Linux: a watch per directory

  /**
   * Watches a directory and every directory under it (skipping ignored ones); returns the files
   * under it. Each directory is watched before it is read, so nothing created in it is missed:
   * what was there already is in the listing, what comes later raises an event.
   */
  private async watchTree(dir: string): Promise<string[]> {
    if (this.closed || this.dirs.has(dir)) return [];
    const abs = dir === '' ? this.root : join(this.root, ...dir.split('/'));
    let w: FSWatcher;
    try {
      w = watch(abs, { persistent: true, encoding: 'utf8' }, (kind, file) => {
        if (file === null) this.queue(null);
        else this.onEvent(kind, dir === '' ? String(file) : `${dir}/${String(file)}`);
      });
    } catch (err) {
      if (isGone(err)) return [];
      this.hooks.onError(err);
      return [];
    }
    w.on('error', (err) => {
      // The directory went away (or the watch broke): stop watching it; a rescan settles the rest.
      if (this.dirs.get(dir) === w) this.dirs.delete(dir);
      w.close();
      if (!isGone(err)) this.hooks.onError(err);
      this.queue(null);
    });
    this.dirs.set(dir, w);
    let entries;
    try {
      entries = await readdir(abs, { withFileTypes: true });
    } catch (err) {
      if (!isGone(err)) this.hooks.onError(err);
      return [];
    }
    const files: string[] = [];
    const subdirs: string[] = [];
    for (const e of entries) {
      const name = dir === '' ? e.name : `${dir}/${e.name}`;
      if (this.skip(name)) continue;
      if (e.isDirectory()) subdirs.push(name);
      else if (e.isFile()) files.push(name);
    }
    // Sub-directories side by side, not one after the other: a restart with a cold cache waits on
    // each readdir (W4: 3,000 directories for 10,000 files); libuv's pool bounds the I/O in flight.
    for (const sub of await Promise.all(subdirs.map((d) => this.watchTree(d)))) for (const f of sub) files.push(f);
    return files;
  }

  /** A directory appeared (a tool starting a project, or roamd receiving one): watch it, look at its files. */
  private async newDirectory(name: string): Promise<void> {
    try {
      for (const f of await this.watchTree(name)) this.changed(f);
    } catch (err) {
      this.hooks.onError(err);
    }
  }

  private unwatchTree(name: string): void {
    for (const [d, w] of this.dirs) {
      if (d === name || d.startsWith(`${name}/`)) {
        w.close();
        this.dirs.delete(d);
      }
    }
  }

  // ---------------------------------------------------------------- elsewhere: one recursive watch

  private watchRecursive(): void {
    const w = watch(this.root, { persistent: true, recursive: true, encoding: 'utf8' }, (kind, file) => {
      if (file === null) this.queue(null);
      else this.onEvent(kind, String(file).split(sep).join('/'));
    });
    w.on('error', (err) => {
      this.hooks.onError(err);
      this.queue(null);
    });
    this.dirs.set('', w);
  }

  /** The regular files under a directory, recursively, as item names (none if it is gone). */
  private async filesUnder(dir: string): Promise<string[]> {
    const out: string[] = [];
    const visit = async (d: string): Promise<void> => {
      let entries;
      try {
        entries = await readdir(join(this.root, ...d.split('/')), { withFileTypes: true });
      } catch (err) {
        if (isGone(err)) return;
        throw err;
      }
      for (const e of entries) {
        const name = `${d}/${e.name}`;
        if (this.skip(name)) continue;
        if (e.isDirectory()) await visit(name);
        else if (e.isFile()) out.push(name);
      }
    };
    await visit(dir);
    return out;
  }
}

function isGone(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException | null)?.code;
  return code === 'ENOENT' || code === 'ENOTDIR';
}
