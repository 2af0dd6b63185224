/**
 * The session metadata cache, `<state>/sessions-cache.json` (`$ROAM_HOME/state` or XDG's state
 * directory, see roamPaths): one entry per transcript, valid while the file's size and mtime are
 * the ones it was read at. A warm `roam list` then costs a directory walk and a stat per file.
 * The cache is an optimisation only: unreadable, corrupt or unwritable, it is ignored.
 */
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, sep } from 'node:path';
import { roamPaths } from '../daemon/home.js';
import type { SessionInfo } from './types.js';

/** Bump when what is cached, or how it is computed, changes. */
const VERSION = 2;

/**
 * One file's entry, packed (the cache of 10,000 sessions is read on every `roam list`):
 * [size, mtimeMs] for a file that is not a session, else [size, mtimeMs, tool, id ('' = the file's
 * stem), projectKey ('' = the directory's name), cwd, title (0 = the first prompt), firstPrompt,
 * lastActivity, messages, messagesExact (0/1), gitBranch].
 */
type Packed = [number, number] | [number, number, string, string, string, string | null, string | null | 0, string | null, string, number, 0 | 1, string | null];

export class MetaCache {
  private dirty = false;
  /** How many files have an entry. */
  size = 0;

  private constructor(
    private readonly file: string | null,
    /** directory → file name → entry */
    private readonly dirs: Map<string, Record<string, Packed>>,
  ) {
    for (const files of dirs.values()) for (const _ in files) this.size++;
  }

  /** The cache of this environment's state directory (`file: null` for none at all). */
  static open(env: NodeJS.ProcessEnv = process.env, file: string | null = join(roamPaths(env).state, 'sessions-cache.json')): MetaCache {
    const dirs = new Map<string, Record<string, Packed>>();
    if (file) {
      try {
        const data = JSON.parse(readFileSync(file, 'utf8')) as { v?: unknown; d?: Record<string, Record<string, Packed>> };
        if (data.v === VERSION && data.d && typeof data.d === 'object') for (const [k, v] of Object.entries(data.d)) dirs.set(k, v);
      } catch {
        // missing or unreadable: start empty
      }
    }
    return new MetaCache(file, dirs);
  }

  /** The cached info (null: not a session), or undefined when unknown or stale. */
  get(path: string, size: number, mtimeMs: number): SessionInfo | null | undefined {
    const dir = dirname(path);
    const name = basename(path);
    const e = this.dirs.get(dir)?.[name];
    if (!e || e[0] !== size || e[1] !== mtimeMs) return undefined;
    if (e.length === 2) return null;
    const [, , tool, id, key, cwd, title, firstPrompt, lastActivity, messages, exact, gitBranch] = e;
    return {
      tool: tool as SessionInfo['tool'],
      id: id || (name.endsWith('.jsonl') ? name.slice(0, -6) : name),
      file: path,
      projectKey: key || basename(dir),
      cwd,
      title: title === 0 ? firstPrompt : title,
      firstPrompt,
      lastActivity,
      messages,
      messagesExact: exact === 1,
      gitBranch,
      bytes: size,
      mtimeMs,
    };
  }

  set(path: string, size: number, mtimeMs: number, info: SessionInfo | null): void {
    const dir = dirname(path);
    const name = basename(path);
    let d = this.dirs.get(dir);
    if (!d) this.dirs.set(dir, (d = {}));
    if (!(name in d)) this.size++;
    d[name] = info === null
      ? [size, mtimeMs]
      : [
          size, mtimeMs, info.tool,
          name === `${info.id}.jsonl` ? '' : info.id,
          info.projectKey === basename(dir) ? '' : info.projectKey,
          info.cwd,
          info.title === info.firstPrompt ? 0 : info.title,
          info.firstPrompt, info.lastActivity, info.messages, info.messagesExact ? 1 : 0, info.gitBranch,
        ];
    this.dirty = true;
  }

  /** Drops the entries under `root` (a directory) whose files `seen` does not hold. */
  prune(root: string, seen: ReadonlySet<string>): void {
    const under = root.endsWith(sep) ? root : root + sep;
    for (const [dir, files] of this.dirs) {
      if (dir !== root && !dir.startsWith(under)) continue;
      for (const name of Object.keys(files)) {
        if (!seen.has(join(dir, name))) {
          delete files[name];
          this.size--;
          this.dirty = true;
        }
      }
      if (!Object.keys(files).length) this.dirs.delete(dir);
    }
  }

  /** Writes the cache if it changed (atomically: a temporary file, then rename). Never throws. */
  save(): void {
    if (!this.dirty || !this.file) return;
    const tmp = `${this.file}.${process.pid}.tmp`;
    try {
      mkdirSync(dirname(this.file), { recursive: true });
      writeFileSync(tmp, JSON.stringify({ v: VERSION, d: Object.fromEntries(this.dirs) }));
      renameSync(tmp, this.file);
      this.dirty = false;
    } catch {
      try {
        rmSync(tmp, { force: true });
      } catch {
        // nothing more to do: the cache is optional
      }
    }
  }
}
