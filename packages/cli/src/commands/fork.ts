/**
 * `roam fork [<session id>] [--dry-run]`: the tool's own fork of a session: a new session id holding
 * the conversation so far, the original untouched (`claude --resume <id> --fork-session`), run in the
 * session's directory when it exists here. Without an id: the most recent session of the current
 * directory's project. --dry-run prints `{"cwd", "command"}` as JSON instead.
 */
import { ErrorCodes, RoamError } from '@roam/core/errors';
import type { Io } from '../main.js';
import { adaptersFor, realDir, resolveSession, runOrPrint, sessionDir, type SessionContext } from '../sessions/index.js';

export async function fork(id: string | undefined, flags: { dryRun?: boolean }, io: Io, ctx: SessionContext = {}): Promise<void> {
  const env = ctx.env ?? process.env;
  const cwd = realDir(ctx.cwd ?? process.cwd());
  const adapters = adaptersFor('claude', { env });
  let target;
  if (id !== undefined) target = await resolveSession(adapters, id);
  else {
    const adapter = adapters[0]!;
    const [session] = await adapter.list({ project: cwd, limit: 1 });
    if (!session) throw new RoamError(ErrorCodes.SESSION_NOT_FOUND, `no session in ${cwd} to fork (give a session id, see roam list --all)`);
    target = { adapter, session };
  }
  const { adapter, session } = target;
  await runOrPrint(adapter.forkCommand(session.id, { cwd: sessionDir(session, cwd) }), flags.dryRun, io, env, cwd);
}
