/**
 * Claude Code's live-session registry: `<config dir>/sessions/<PID>.json` = {pid, sessionId, cwd,
 * status, procStart, …}, written while a `claude` process has a session open (2.1.181+). An entry
 * whose process is gone, or whose pid now belongs to another process (procStart differs), is stale:
 * the CLI was killed without removing it (docs/CLAUDE-CODE.md).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export interface LiveSession {
  readonly pid: number;
  readonly sessionId: string;
  readonly cwd: string | null;
  readonly status: string | null;
}

/** Field 22 of /proc/<pid>/stat (start time in clock ticks), as Claude Code records it; null off Linux. */
function procStart(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19] ?? null;
  } catch {
    return null;
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: it exists but belongs to someone else.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The sessions open in Claude Code on this machine now (live processes only). */
export function liveClaudeSessions(configDir: string): LiveSession[] {
  const dir = join(configDir, 'sessions');
  let names: string[];
  try {
    names = readdirSync(dir).filter((n) => n.endsWith('.json'));
  } catch {
    return [];
  }
  const out: LiveSession[] = [];
  for (const n of names) {
    try {
      const j = JSON.parse(readFileSync(join(dir, n), 'utf8')) as Record<string, unknown>;
      const pid = typeof j.pid === 'number' ? j.pid : Number(n.replace(/\.json$/, ''));
      if (typeof j.sessionId !== 'string' || !Number.isInteger(pid) || pid <= 0 || !alive(pid)) continue;
      // A pid reused by another process after the CLI was killed (its entry stays behind).
      const recorded = j.procStart === undefined || j.procStart === null ? null : String(j.procStart);
      const now = recorded === null ? null : procStart(pid);
      if (recorded !== null && now !== null && recorded !== now) continue;
      out.push({ pid, sessionId: j.sessionId, cwd: typeof j.cwd === 'string' ? j.cwd : null, status: typeof j.status === 'string' ? j.status : null });
    } catch {
      // being written or removed
    }
  }
  return out;
}
