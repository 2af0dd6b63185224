/**
 * One project identity for every tool (DESIGN §3 "Names per device"), for the verbs and roamd alike.
 *
 * A project is named as Claude Code's projects are on the wire (project-names.ts): by its path
 * relative to the home directory of the device it is on (`~code%2Fapp`), or by its absolute path
 * outside any home (`=%2Fwork%2Fapp`); a device also publishes the git remote (and the path inside
 * the repository) of its projects.
 *
 * Codex, Gemini CLI and Copilot CLI record the absolute directory a session ran in on the device
 * that wrote it (`/home/a/code/app`), which is another path here (`/Users/b/code/app`). That path
 * is named against the writer's home: the homes the devices publish in roam's shared folder (the
 * longest that holds the path), else a path that looks like a home (`/home/<user>`, `/Users/<user>`,
 * `/var/home/<user>`, `/root`) when that path is not a directory here. Its name is placed here, in order: a `roam map` entry (config.json
 * `map`), the same home-relative (or absolute) path if that directory exists here, a directory here
 * with the git remote and path inside the repository the writer published for that name. A
 * session therefore always runs in this device's directory for its project, even where the
 * writer's path also exists here.
 */
import { readdirSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { isAbsolute, join, normalize, sep } from 'node:path';
import { gitIdentity, type GitIdentity } from './git.js';
import { roamPaths } from './paths.js';
import { nameAgainstHome, pathOfWire } from './wire-names.js';

/** Paths that are a home directory on common systems (the writer published none). */
const HOME_LIKE = /^(\/home\/[^/]+|\/Users\/[^/]+|\/var\/home\/[^/]+|\/root)(?=\/|$)/;

export interface ProjectPlacesOptions {
  /** This device's home directory. */
  readonly home: string;
  /** Other devices' home directories (what they published). */
  readonly homes?: readonly string[];
  /** `roam map` entries: wire name → directory here. */
  readonly overrides?: Readonly<Record<string, string>>;
  /** What other devices published about their projects: wire name → git remote and path inside it. */
  readonly published?: Readonly<Record<string, { remote: string; sub: string }>>;
}

function real(p: string): string | null {
  try {
    return realpathSync(p);
  } catch {
    return null;
  }
}

function isDir(p: string): boolean {
  return statSync(p, { throwIfNoEntry: false })?.isDirectory() === true;
}

function inside(path: string, dir: string): boolean {
  return path === dir || path.startsWith(dir.endsWith(sep) ? dir : dir + sep);
}

/** Where projects live on this device, and which project a path recorded on any device belongs to. */
export class ProjectPlaces {
  private readonly homes: string[];
  private readonly ownHomes: string[];
  private readonly realHome: string;
  private readonly wires = new Map<string, string | null>();
  private readonly dirs = new Map<string, string | null>();
  private readonly gits = new Map<string, GitIdentity | null>();

  constructor(private readonly opts: ProjectPlacesOptions) {
    this.realHome = real(opts.home) ?? normalize(opts.home);
    this.ownHomes = [...new Set([normalize(opts.home), this.realHome])];
    this.homes = [...new Set((opts.homes ?? []).filter((h) => isAbsolute(h)).map((h) => normalize(h).replace(/\/+$/, '') || '/'))].sort((a, b) => b.length - a.length);
  }

  /** The places of the device whose environment this is: its home, config.json's map, what peers published. */
  static forEnv(env: NodeJS.ProcessEnv = process.env): ProjectPlaces {
    const paths = roamPaths(env);
    let overrides: Record<string, string> = {};
    try {
      const cfg = JSON.parse(readFileSync(paths.configFile, 'utf8')) as { map?: unknown };
      if (cfg.map && typeof cfg.map === 'object') for (const [k, v] of Object.entries(cfg.map)) if (typeof v === 'string') overrides[k] = v;
    } catch {
      overrides = {}; // none, or unreadable: `roam doctor` reports a bad config.json
    }
    const { homes, published } = readPublished(join(paths.state, 'shared'));
    return new ProjectPlaces({ home: env.HOME || homedir(), homes, overrides, published });
  }

  /** The wire name of the project of a directory recorded on any device, or null (not an absolute path). */
  wireOf(recorded: string): string | null {
    let wire = this.wires.get(recorded);
    if (wire === undefined) this.wires.set(recorded, (wire = this.nameOf(recorded)));
    return wire;
  }

  private nameOf(recorded: string): string | null {
    if (!recorded || !isAbsolute(recorded)) return null;
    const p = normalize(recorded).replace(/(.)\/+$/, '$1');
    // This device's own path (the tools record real paths; HOME may be a symlink).
    for (const h of this.ownHomes) if (inside(p, h)) return nameAgainstHome(real(p) ?? join(this.realHome, p.slice(h.length)), this.realHome);
    // A conventional home stands for the writer's only where the path is not a directory here
    // (another user's project on a shared machine is that directory).
    const home = this.homes.find((h) => inside(p, h)) ?? (isDir(p) ? undefined : HOME_LIKE.exec(p)?.[1]);
    return nameAgainstHome(p, home ?? this.realHome);
  }

  /** This device's directory (real path) for the project of a recorded directory, when one exists here. */
  dirOf(recorded: string): string | null {
    if (this.dirs.has(recorded)) return this.dirs.get(recorded)!;
    const wire = this.wireOf(recorded);
    let dir: string | null = null;
    if (wire !== null) {
      const override = this.opts.overrides?.[wire];
      const here = pathOfWire(wire, this.realHome);
      if (override && isDir(override)) dir = real(override);
      else if (here !== null && isDir(here)) dir = real(here);
    }
    this.dirs.set(recorded, dir);
    return dir;
  }

  /** Whether a directory recorded on any device is of the project in `dir` (a real path here). */
  belongs(recorded: string | null, dir: string): boolean {
    if (!recorded) return false;
    const here = this.dirOf(recorded);
    if (here !== null) return here === dir;
    // No directory here for that project (yet): the same name is the same project.
    const wire = this.wireOf(recorded);
    if (wire === null) return false;
    if (wire === this.wireOf(dir)) return true;
    const want = this.opts.published?.[wire];
    if (!want) return false;
    if (!this.gits.has(dir)) this.gits.set(dir, gitIdentity(dir));
    const g = this.gits.get(dir);
    return !!g && g.remote === want.remote && g.sub === want.sub;
  }
}

/**
 * The directory roamd placed a Claude Code project key at (its table of names, project-names.ts,
 * `roam map` included), read without the daemon, or null.
 */
export function claudeKeyPath(env: NodeJS.ProcessEnv, key: string): string | null {
  try {
    const t = JSON.parse(readFileSync(join(roamPaths(env).state, 'folders', 'claude', 'projects.json'), 'utf8')) as { keys?: Record<string, { path?: unknown }> };
    const path = t.keys?.[key]?.path;
    return typeof path === 'string' && isAbsolute(path) ? path : null;
  } catch {
    return null;
  }
}

/** The homes and projects devices published in roam's shared folder (files a peer wrote; read defensively). */
export function readPublished(dir: string): { homes: string[]; published: Record<string, { remote: string; sub: string }> } {
  const homes: string[] = [];
  const published: Record<string, { remote: string; sub: string }> = {};
  let names: string[];
  try {
    names = readdirSync(dir).filter((n) => n.endsWith('.json'));
  } catch {
    return { homes, published };
  }
  for (const n of names) {
    try {
      const o = JSON.parse(readFileSync(join(dir, n), 'utf8')) as { home?: unknown; projects?: unknown };
      if (typeof o.home === 'string' && isAbsolute(o.home)) homes.push(o.home);
      if (o.projects && typeof o.projects === 'object') {
        for (const [wire, p] of Object.entries(o.projects as Record<string, { remote?: unknown; sub?: unknown }>)) {
          if (p && typeof p.remote === 'string' && typeof p.sub === 'string' && !(wire in published)) published[wire] = { remote: p.remote, sub: p.sub };
        }
      }
    } catch {
      // being replaced, or not a device's file
    }
  }
  return { homes, published };
}
