/**
 * `roam show <session id> [--json]`: the conversation as the tool would replay it (root to the
 * current leaf), as markdown, or --json: [{role, uuid, timestamp, text, toolUses, toolResults}].
 * The id may be a unique prefix; none: ROAM_SESSION_NOT_FOUND; several: ROAM_USAGE with the candidates.
 */
import type { Io } from '../io.js';
import { adaptersFor, resolveSession, type SessionContext } from '../sessions/index.js';
import { renderMarkdown } from '../sessions/markdown.js';

export async function show(id: string, flags: { json?: boolean; tool?: string }, io: Io, ctx: SessionContext = {}): Promise<void> {
  const env = ctx.env ?? process.env;
  const { adapter, session } = await resolveSession(adaptersFor(flags.tool, { env }), id);
  const entries = await adapter.show(session.id);
  io.out(flags.json ? JSON.stringify(entries, null, 2) : renderMarkdown(session, entries).trimEnd());
}
