/**
 * `roam fork [<session id>] [--tool <t>] [--dry-run]`: the tool's own fork of a session: a new
 * session id holding the conversation so far, the original untouched (`claude --resume <id>
 * --fork-session`, `codex fork <id>`, Gemini CLI's `--session-file` copy; Copilot CLI has none and
 * says so), run in this device's directory for the session's project (never the directory another
 * device recorded). Without an id: the most recent session of the current directory's project,
 * whichever tool and device wrote it (or the one of --tool). --dry-run prints `{"cwd", "command"}`
 * as JSON instead.
 */
import { ErrorCodes, RoamError } from '@roam/core/errors';
import type { Io } from '../io.js';
import { adaptersFor, realDir, resolveSession, runOrPrint, sessionDir, type SessionContext } from '../sessions/index.js';
import type { SessionAdapter, SessionInfo } from '../sessions/types.js';

export async function fork(id: string | undefined, flags: { dryRun?: boolean; tool?: string }, io: Io, ctx: SessionContext = {}): Promise<void> {
  const env = ctx.env ?? process.env;
  const cwd = realDir(ctx.cwd ?? process.cwd());
  const adapters = adaptersFor(flags.tool, { env });
  let target: { adapter: SessionAdapter; session: SessionInfo } | undefined;
  if (id !== undefined) target = await resolveSession(adapters, id);
  else {
    for (const adapter of adapters) {
      const [session] = await adapter.list({ project: cwd, limit: 1 });
      if (session && (!target || Date.parse(session.lastActivity) > Date.parse(target.session.lastActivity))) target = { adapter, session };
    }
    if (!target) throw new RoamError(ErrorCodes.SESSION_NOT_FOUND, `no session in ${cwd} to fork (give a session id, see roam list --all)`);
  }
  const { adapter, session } = target;
  await runOrPrint(adapter.forkCommand(session.id, { cwd: sessionDir(session, cwd, env) }), flags.dryRun, io, env, cwd);
}
