/**
 * `roam new <name> [--tool claude|copilot] [--dry-run]`: starts a new named session in the current
 * directory (`claude --name <name>`, `copilot --name <name>`; Codex CLI and Gemini CLI cannot name a
 * session from the command line and say so). --dry-run prints `{"cwd", "command"}` as JSON instead.
 * roam exits with the tool's exit code.
 */
import { ErrorCodes, RoamError } from '@roam/core/errors';
import type { Io } from '../io.js';
import { adaptersFor, realDir, runOrPrint, type SessionContext } from '../sessions/index.js';

export async function newSession(name: string, flags: { dryRun?: boolean; tool?: string }, io: Io, ctx: SessionContext = {}): Promise<void> {
  const env = ctx.env ?? process.env;
  if (!name.trim()) throw new RoamError(ErrorCodes.USAGE, 'a session needs a name');
  const cwd = realDir(ctx.cwd ?? process.cwd());
  const adapter = adaptersFor(flags.tool ?? 'claude', { env })[0]!;
  await runOrPrint(adapter.newCommand(name, { cwd }), flags.dryRun, io, env, cwd);
}
