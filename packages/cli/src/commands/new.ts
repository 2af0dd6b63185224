/**
 * `roam new <name> [--dry-run]`: starts a new Claude Code session with that display name in the
 * current directory (`claude --name <name>`). --dry-run prints `{"cwd", "command"}` as JSON instead.
 * roam exits with the tool's exit code.
 */
import { ErrorCodes, RoamError } from '@roam/core/errors';
import type { Io } from '../main.js';
import { adaptersFor, realDir, runOrPrint, type SessionContext } from '../sessions/index.js';

export async function newSession(name: string, flags: { dryRun?: boolean }, io: Io, ctx: SessionContext = {}): Promise<void> {
  const env = ctx.env ?? process.env;
  if (!name.trim()) throw new RoamError(ErrorCodes.USAGE, 'a session needs a name');
  const cwd = realDir(ctx.cwd ?? process.cwd());
  const adapter = adaptersFor('claude', { env })[0]!;
  await runOrPrint(adapter.newCommand(name, { cwd }), flags.dryRun, io, env, cwd);
}
