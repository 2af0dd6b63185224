/**
 * Names per device for Claude Code's projects folder (DESIGN §3 "Names per device").
 *
 * Claude Code keys a project by its absolute path (`/home/alice/code/app` → `-home-alice-code-app`),
 * which differs between machines with another username or layout. On the wire a project is named
 * canonically, one path component, and each device keeps the project's files under its own key:
 *
 *   `~<rel>`  the project's path relative to the home directory (`~code%2Fapp`; `~` is home itself);
 *   `=<abs>`  an absolute path outside the home directory (`=%2Fwork%2Fapp`);
 *   anything else: a local key that could not be resolved to a path, sent as it is (a key that
 *   itself starts with `~`, `=` or `%` is sent behind a `%`).
 * In `<rel>` and `<abs>`, `%` is written `%25` and `/` is written `%2F`; nothing else changes.
 *
 * A device resolves its own key to a path from the sessions' `cwd` fields (only a cwd whose key is
 * this key: a log received from another device carries that device's paths) or else by finding the
 * directory on disk whose key it is. It resolves a wire name to its own key by, in order: an
 * override (`roam map`), the table it already keeps, the same home-relative (or absolute) path if
 * that directory exists here, a project here with the same git remote (from what the sender
 * published about its projects), and lastly the home-relative path even if it does not exist yet.
 *
 * Every resolution is kept in a table beside the folder's state, so a name never changes under a
 * file once it has been announced: one log, one local name per device.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, realpathSync, renameSync, statSync, openSync, readSync, closeSync, writeFileSync, type Dirent } from 'node:fs';
import { dirname, join } from 'node:path';
import { validateName } from '@roam/core/names';
import { keyMatches as claudeKeyMatches, projectKey as claudeProjectKey } from '../tools/claude/adapter.js';
import { gitIdentity, type GitIdentity } from './git.js';
import { nameAgainstHome, pathOfWire } from './wire-names.js';

export type Resolution = 'override' | 'cwd' | 'dir' | 'home' | 'absolute' | 'remote' | 'missing' | 'raw';

export interface ProjectEntry {
  /** The local key directory under the projects folder. */
  readonly key: string;
  /** The wire name of the project that owns this key (announced for files created here). */
  readonly wire: string;
  /** The project directory on this device, when known. */
  readonly path: string | null;
  readonly how: Resolution;
}

interface Table {
  v: 1;
  keys: Record<string, ProjectEntry>;
  /** wire name → local key, for every wire name ever resolved here. */
  wires: Record<string, string>;
  /** Local item names whose wire project differs from their key's own (two projects mapped to one key). */
  items: Record<string, string>;
}

export interface ProjectNamesOptions {
  /** The projects folder (`~/.claude/projects`). */
  readonly root: string;
  /** This device's home directory. */
  readonly home: string;
  /** Where the table is kept. */
  readonly file: string;
  /** `roam map` overrides: wire name → local project path. */
  readonly overrides?: () => Readonly<Record<string, string>>;
  /** What other devices published about a wire project (its git remote). */
  readonly remoteOf?: (wire: string) => GitIdentity | null;
  /** Local project directories worth trying when looking for a git remote. */
  readonly candidates?: () => readonly string[];
  readonly log?: (line: string) => void;
}

const HEAD_BYTES = 64 * 1024;
/** Directories read at most while looking for the directory a key stands for. */
const SEARCH_BUDGET = 4000;

export { decodePath, encodePath, pathOfWire } from './wire-names.js';

/** The wire name of a project directory (already real), or null when it cannot be one component. */
export function wireNameOf(path: string, home: string): string | null {
  const name = nameAgainstHome(path, home);
  try {
    validateName(name);
    return name.includes('/') ? null : name;
  } catch {
    return null;
  }
}

function rawWire(key: string): string {
  return /^[~=%]/.test(key) ? `%${key}` : key;
}

function rawKey(wire: string): string {
  return wire.startsWith('%') ? wire.slice(1) : wire;
}

function real(path: string): string | null {
  try {
    return realpathSync(path);
  } catch {
    return null;
  }
}

export class ProjectNames {
  private table: Table;
  private readonly home: string;

  constructor(private readonly opts: ProjectNamesOptions) {
    this.home = real(opts.home) ?? opts.home;
    this.table = ProjectNames.load(opts.file);
  }

  private static load(file: string): Table {
    try {
      const t = JSON.parse(readFileSync(file, 'utf8')) as Table;
      if (t && t.v === 1 && t.keys && t.wires) return { v: 1, keys: t.keys, wires: t.wires, items: t.items ?? {} };
    } catch {
      // absent or unreadable: start empty (every name is resolved again the same way)
    }
    return { v: 1, keys: {}, wires: {}, items: {} };
  }

  private save(): void {
    mkdirSync(dirname(this.opts.file), { recursive: true });
    const tmp = `${this.opts.file}.tmp`;
    writeFileSync(tmp, JSON.stringify(this.table), { mode: 0o600 });
    renameSync(tmp, this.opts.file);
  }

  entries(): ProjectEntry[] {
    return Object.values(this.table.keys).sort((a, b) => (a.wire < b.wire ? -1 : a.wire > b.wire ? 1 : 0));
  }

  /** Every wire name resolved here, with its local key. */
  wires(): Record<string, string> {
    return { ...this.table.wires };
  }

  entryOfKey(key: string): ProjectEntry | undefined {
    return this.table.keys[key];
  }

  // ------------------------------------------------------------------ local → wire

  /** The wire name of a local item name (the first component is mapped; a top-level file is not). */
  toWire(local: string): string {
    const slash = local.indexOf('/');
    if (slash < 0) return local;
    const exception = this.table.items[local];
    if (exception) return `${exception}${local.slice(slash)}`;
    return `${this.wireOfKey(local.slice(0, slash))}${local.slice(slash)}`;
  }

  /** The wire name of a local key directory, resolved (and remembered) on first use. */
  wireOfKey(key: string): string {
    const known = this.table.keys[key];
    if (known) return known.wire;
    const entry = this.resolveKey(key);
    this.table.keys[key] = entry;
    if (!(entry.wire in this.table.wires)) this.table.wires[entry.wire] = key;
    this.save();
    this.opts.log?.(`project ${key} is ${entry.wire} (${entry.how}${entry.path ? `: ${entry.path}` : ''})`);
    return entry.wire;
  }

  private resolveKey(key: string): ProjectEntry {
    const fromCwd = this.cwdOfKey(key);
    const found = fromCwd ? { path: fromCwd, how: 'cwd' as const } : this.findDir(key);
    if (found) {
      const wire = wireNameOf(found.path, this.home);
      if (wire) return { key, wire, path: found.path, how: found.how };
    }
    return { key, wire: rawWire(key), path: null, how: 'raw' };
  }

  /** A `cwd` from this key's session logs whose own key is this key. */
  private cwdOfKey(key: string): string | null {
    const dir = join(this.opts.root, key);
    let names: string[];
    try {
      names = readdirSync(dir).filter((n) => n.endsWith('.jsonl'));
    } catch {
      return null;
    }
    const buf = Buffer.alloc(HEAD_BYTES);
    for (const n of names.slice(0, 20)) {
      let fd: number;
      try {
        fd = openSync(join(dir, n), 'r');
      } catch {
        continue;
      }
      try {
        const len = readSync(fd, buf, 0, HEAD_BYTES, 0);
        const text = buf.subarray(0, len).toString('utf8');
        for (const m of text.matchAll(/"cwd":"((?:[^"\\]|\\.)*)"/g)) {
          let cwd: string;
          try {
            cwd = JSON.parse(`"${m[1]}"`) as string;
          } catch {
            continue;
          }
          if (claudeKeyMatches(key, cwd)) return real(cwd) ?? cwd;
        }
      } finally {
        closeSync(fd);
      }
    }
    return null;
  }

  /** The directory on this device whose key is `key`, found by walking down from `/` along the key. */
  private findDir(key: string): { path: string; how: 'dir' } | null {
    let budget = SEARCH_BUDGET;
    const walk = (dir: string): string | null => {
      if (budget-- <= 0) return null;
      let entries: Dirent[];
      try {
        entries = readdirSync(dir, { withFileTypes: true });
      } catch {
        return null;
      }
      for (const e of entries) {
        if (!e.isDirectory()) continue;
        const p = join(dir, e.name);
        const k = claudeProjectKey(p);
        if (claudeKeyMatches(key, p)) return p;
        const cmp = k.length > 200 ? k.slice(0, 200) : k;
        if (key.startsWith(cmp) && key[cmp.length] === '-') {
          const hit = walk(p);
          if (hit) return hit;
        }
      }
      return null;
    };
    if (key === '-') return { path: '/', how: 'dir' };
    const hit = walk('/');
    return hit ? { path: hit, how: 'dir' } : null;
  }

  /**
   * The name ignore rules and selective sync judge a local path by: its wire name. A top-level
   * name is mapped only when it is a directory (a project key), so a new project's directory is
   * judged before any of its files is seen.
   */
  wireForRules(local: string, root: string): string {
    if (local.includes('/')) return this.toWire(local);
    const known = this.table.keys[local];
    if (known) return known.wire;
    try {
      if (statSync(join(root, local)).isDirectory()) return this.wireOfKey(local);
    } catch {
      // gone or not there yet
    }
    return local;
  }

  // ------------------------------------------------------------------ wire → local

  /** The local item name of a wire name. */
  toLocal(wire: string): string {
    const slash = wire.indexOf('/');
    if (slash < 0) return wire;
    const top = wire.slice(0, slash);
    const key = this.keyOfWire(top);
    const local = `${key}${wire.slice(slash)}`;
    const owner = this.table.keys[key];
    if (owner && owner.wire !== top && this.table.items[local] !== top) {
      this.table.items[local] = top;
      this.save();
    }
    return local;
  }

  /** The local key of a wire project, resolved (and remembered) on first use. */
  keyOfWire(wire: string): string {
    const known = this.table.wires[wire];
    if (known !== undefined) return known;
    const entry = this.resolveWire(wire);
    this.table.wires[wire] = entry.key;
    if (!this.table.keys[entry.key]) this.table.keys[entry.key] = entry;
    this.save();
    this.opts.log?.(`project ${wire} is stored as ${entry.key} (${entry.how}${entry.path ? `: ${entry.path}` : ''})`);
    return entry.key;
  }

  private resolveWire(wire: string): ProjectEntry {
    const override = this.opts.overrides?.()[wire];
    if (override) {
      const path = real(override) ?? override;
      return { key: this.keyFor(claudeProjectKey(path)), wire, path, how: 'override' };
    }
    const path = pathOfWire(wire, this.home);
    if (path === null) return { key: rawKey(wire), wire, path: null, how: 'raw' };
    const here = real(path);
    if (here) return { key: this.keyFor(claudeProjectKey(here)), wire, path: here, how: wire.startsWith('~') ? 'home' : 'absolute' };
    const byRemote = this.byRemote(wire);
    if (byRemote) return { key: this.keyFor(claudeProjectKey(byRemote)), wire, path: byRemote, how: 'remote' };
    return { key: this.keyFor(claudeProjectKey(path)), wire, path, how: 'missing' };
  }

  /** A project directory here with the git remote (and path inside the repository) the sender published. */
  private byRemote(wire: string): string | null {
    const want = this.opts.remoteOf?.(wire);
    if (!want) return null;
    const seen = new Set<string>();
    const dirs = [...(this.opts.candidates?.() ?? []), ...Object.values(this.table.keys).map((e) => e.path).filter((p): p is string => !!p)];
    for (const d of dirs) {
      if (seen.has(d)) continue;
      seen.add(d);
      const g = gitIdentity(d);
      if (g && g.remote === want.remote) {
        const target = join(g.root, want.sub);
        if (real(target)) return real(target);
      }
    }
    return null;
  }

  /** An existing key directory that matches (a long key's suffix may differ), else the computed key. */
  private keyFor(computed: string): string {
    if (computed.length <= 200) return computed;
    try {
      const hit = readdirSync(this.opts.root).find((n) => n.length > 200 && n.slice(0, 200) === computed.slice(0, 200) && statSync(join(this.opts.root, n)).isDirectory());
      if (hit) return hit;
    } catch {
      // no projects folder yet
    }
    return computed;
  }

  // ------------------------------------------------------------------ changes

  /**
   * Points a wire project at another local directory (`roam map`): returns the old and new key so
   * the caller can move the files; the table is updated at once.
   */
  remap(wire: string, path: string): { from: string | null; to: string } {
    const target = real(path) ?? path;
    const to = this.keyFor(claudeProjectKey(target));
    const from = this.table.wires[wire] ?? null;
    this.table.wires[wire] = to;
    const owner = this.table.keys[to];
    if (!owner || owner.how === 'missing' || owner.how === 'raw' || owner.wire === wire) this.table.keys[to] = { key: to, wire, path: target, how: 'override' };
    if (from && from !== to && this.table.keys[from]?.wire === wire) delete this.table.keys[from];
    this.save();
    return { from, to };
  }

  /** Records that a moved item keeps its wire project (after remap moved it into a shared key). */
  noteItem(local: string, wire: string): void {
    const key = local.slice(0, local.indexOf('/'));
    if (this.table.keys[key]?.wire === wire) delete this.table.items[local];
    else this.table.items[local] = wire;
    this.save();
  }

  forgetItem(local: string): void {
    if (local in this.table.items) {
      delete this.table.items[local];
      this.save();
    }
  }

  /** Whether a wire project's current resolution could be improved by a git remote published later. */
  isMissing(wire: string): boolean {
    const key = this.table.wires[wire];
    return key !== undefined && this.table.keys[key]?.how === 'missing' && !existsSync(this.table.keys[key]!.path ?? '/nonexistent-roam');
  }

  /** Tries the git remote again for a wire project stored under a directory that does not exist. */
  betterPath(wire: string): string | null {
    return this.isMissing(wire) ? this.byRemote(wire) : null;
  }
}
