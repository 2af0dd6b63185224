/**
 * Small pieces every session adapter uses: real paths, the project a path-keyed tool (Codex,
 * Copilot CLI) files a session under, times, and tool commands.
 */
import { realpathSync } from 'node:fs';
import type { SessionInfo, ToolCommand } from './types.js';

/** The directory as the tools see it: its real path (symlinks resolved), or the path itself if that fails. */
export function realDir(dir: string): string {
  try {
    return realpathSync(dir);
  } catch {
    return dir;
  }
}

/** For tools keyed by path: whether the session started in `dir` or was last in it. */
export function inPathProject(s: SessionInfo, dir: string): boolean {
  for (const p of [s.projectKey, s.cwd]) if (p && p !== '-' && (p === dir || realDir(p) === dir)) return true;
  return false;
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
