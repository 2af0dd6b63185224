/**
 * Small pieces every session adapter uses: real paths, the sessions of a project, times, titles,
 * the order of a list, and tool commands.
 */
import { realpathSync } from 'node:fs';
import { ProjectPlaces } from '../machine/project-identity.js';
import type { SessionInfo, ToolCommand } from './types.js';

/** The directory as the tools see it: its real path (symlinks resolved), or the path itself if that fails. */
export function realDir(dir: string): string {
  try {
    return realpathSync(dir);
  } catch {
    return dir;
  }
}

/**
 * The sessions of the project in `dir` (a real path here), by the one project identity of every
 * tool (machine/project-identity.ts): a session whose recorded start or last directory, on whichever
 * device wrote it, is this project's. `byKey`: the others that still are (Gemini CLI: filed under
 * this directory's slug, with no recorded directory or one that has no place here).
 */
export function ofProject(sessions: SessionInfo[], dir: string, env: NodeJS.ProcessEnv, byKey?: (s: SessionInfo, places: ProjectPlaces) => boolean): SessionInfo[] {
  const places = ProjectPlaces.forEnv(env);
  return sessions.filter((s) => places.belongs(s.projectKey, dir) || places.belongs(s.cwd, dir) || (byKey !== undefined && byKey(s, places)));
}

/** A command run in `cwd` when one is given, else where roam runs. */
export function withCwd(argv: string[], cwd: string | undefined): ToolCommand {
  return cwd === undefined ? { argv } : { argv, cwd };
}

/** The timestamp `ts` as ISO, or the file's mtime when there is none or it does not parse. */
export function isoOr(ts: string | null, mtimeMs: number): string {
  if (ts !== null) {
    const t = Date.parse(ts);
    if (Number.isFinite(t)) return new Date(t).toISOString();
  }
  return new Date(mtimeMs).toISOString();
}

/** Whitespace collapsed, trimmed, cut to `max` characters (with an ellipsis), or null when empty. */
export function oneLine(s: string | null, max: number): string | null {
  if (s === null) return null;
  const t = s.replace(/\s+/g, ' ').trim();
  if (!t) return null;
  return t.length > max ? `${t.slice(0, max - 1)}…` : t;
}

/** Newest first by last activity (ISO strings in UTC compare as times), then by mtime. */
export function newestFirst(xs: SessionInfo[]): SessionInfo[] {
  return xs.sort((a, b) => (a.lastActivity < b.lastActivity ? 1 : a.lastActivity > b.lastActivity ? -1 : b.mtimeMs - a.mtimeMs));
}
