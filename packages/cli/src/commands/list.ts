/**
 * `roam list [--json] [--all] [--tool <t>] [--limit <n>]`: the sessions of the current directory's
 * project (the tools' key of its real path), newest first; `--all`: of every project.
 *
 * On a terminal (stdin and stdout) without --json: a picker; the picked session is resumed (by
 * default `claude --resume <id>` in the session's directory, through runTool; the `resume` hook
 * replaces that). Otherwise a table: id, last activity, messages, title. --json: SessionInfo[].
 */
import type { Io } from '../main.js';
import { ToolExit, runTool } from '../sessions/exec.js';
import { adaptersFor, realDir, relativeTime, sessionDir, type SessionContext } from '../sessions/index.js';
import { newestFirst } from '../sessions/claude.js';
import type { SessionAdapter, SessionInfo } from '../sessions/types.js';

export interface ListFlags {
  json?: boolean;
  all?: boolean;
  tool?: string;
  limit?: number;
}

export interface ListContext extends SessionContext {
  /** Show the picker (default: stdin and stdout are terminals, and no --json). */
  readonly interactive?: boolean;
  /** What picking a session does; resolves with the exit code roam should end with. */
  readonly resume?: (session: SessionInfo, adapter: SessionAdapter) => Promise<number>;
  /** The picker itself (default: @inquirer/prompts' search); resolves with the picked session, or null. */
  readonly pick?: (sessions: readonly SessionInfo[], now: number) => Promise<SessionInfo | null>;
}

export async function listSessions(flags: ListFlags, ctx: SessionContext = {}): Promise<{ sessions: SessionInfo[]; project: string | null }> {
  const env = ctx.env ?? process.env;
  const project = flags.all ? null : realDir(ctx.cwd ?? process.cwd());
  const adapters = adaptersFor(flags.tool, { env });
  let sessions: SessionInfo[] = [];
  for (const a of adapters) sessions.push(...(await a.list(project === null ? {} : { project })));
  if (adapters.length > 1) sessions = newestFirst(sessions);
  if (flags.limit) sessions = sessions.slice(0, flags.limit);
  return { sessions, project };
}

export async function list(flags: ListFlags, io: Io, ctx: ListContext = {}): Promise<void> {
  const env = ctx.env ?? process.env;
  const now = ctx.now ?? Date.now();
  const { sessions, project } = await listSessions(flags, ctx);
  if (flags.json) {
    io.out(JSON.stringify(sessions, null, 2));
    return;
  }
  if (!sessions.length) {
    io.out(project === null ? 'no sessions' : `no sessions in ${project} (roam list --all: every project)`);
    return;
  }
  const interactive = ctx.interactive ?? (!!process.stdin.isTTY && !!process.stdout.isTTY);
  if (!interactive) {
    for (const s of sessions) io.out(tableRow(s, now, project === null));
    return;
  }
  const picked = await (ctx.pick ?? inquirerPick)(sessions, now);
  if (!picked) return;
  const adapter = adaptersFor(picked.tool, { env })[0]!;
  const resume = ctx.resume ?? ((s: SessionInfo, a: SessionAdapter) => {
    const cmd = a.resumeCommand(s.id, { cwd: sessionDir(s, ctx.cwd ?? process.cwd()) });
    return runTool(cmd.argv, { ...(cmd.cwd ? { cwd: cmd.cwd } : {}), env });
  });
  const code = await resume(picked, adapter);
  if (code !== 0) throw new ToolExit(code);
}

export function tableRow(s: SessionInfo, now: number, withProject: boolean): string {
  const when = relativeTime(Date.parse(s.lastActivity), now).padEnd(11);
  const msgs = `${s.messagesExact ? '' : '~'}${s.messages}`.padStart(6);
  const project = withProject ? `${cut(s.cwd ?? s.projectKey, 30, true).padEnd(30)}  ` : '';
  return `${s.id}  ${when}  ${msgs}  ${project}${cut(s.title ?? '(untitled)', 70)}`;
}

/** At most `max` characters; `fromEnd` keeps the end (for paths). */
function cut(s: string, max: number, fromEnd = false): string {
  if (s.length <= max) return s;
  return fromEnd ? `…${s.slice(s.length - max + 1)}` : `${s.slice(0, max - 1)}…`;
}

async function inquirerPick(sessions: readonly SessionInfo[], now: number): Promise<SessionInfo | null> {
  const { search } = await import('@inquirer/prompts');
  const choices = sessions.map((s) => ({
    value: s,
    name: `${relativeTime(Date.parse(s.lastActivity), now).padEnd(11)} ${`${s.messages}`.padStart(5)} msgs  ${cut(s.title ?? s.id, 80)}`,
    description: `${s.id}  ${s.cwd ?? s.projectKey}${s.gitBranch ? `  (${s.gitBranch})` : ''}`,
  }));
  try {
    return await search<SessionInfo>({
      message: 'Resume which session? (type to filter)',
      pageSize: 15,
      source: (term) => {
        const t = (term ?? '').toLowerCase();
        return t ? choices.filter((c) => `${c.name} ${c.description}`.toLowerCase().includes(t)) : choices;
      },
    });
  } catch (err) {
    // Ctrl-C / Esc in the picker: nothing picked, nothing to report.
    if (err instanceof Error && err.name === 'ExitPromptError') return null;
    throw err;
  }
}
