/**
 * `roam search <text> [--json] [--tool <t>] [--limit <n>]`: case-insensitive substring search over
 * the user and assistant text and the titles of every session (all projects), newest sessions first.
 * Stops after --limit hits (default 100; 0: no limit). --json: [{session, line, role, snippet}].
 */
import type { Io } from '../io.js';
import { adaptersFor, relativeTime, type SessionContext } from '../sessions/index.js';
import type { SearchHit } from '../sessions/types.js';

export const SEARCH_LIMIT = 100;

export interface SearchFlags {
  json?: boolean;
  tool?: string;
  limit?: number;
}

export async function searchSessions(text: string, flags: SearchFlags, ctx: SessionContext = {}): Promise<{ hits: SearchHit[]; more: boolean }> {
  const env = ctx.env ?? process.env;
  const limit = flags.limit === 0 ? Infinity : (flags.limit ?? SEARCH_LIMIT);
  const hits: SearchHit[] = [];
  for (const a of adaptersFor(flags.tool, { env })) {
    if (hits.length > limit) break;
    hits.push(...(await a.search(text, { limit: limit + 1 - hits.length })));
  }
  return { hits: hits.slice(0, limit), more: hits.length > limit };
}

export async function search(text: string, flags: SearchFlags, io: Io, ctx: SessionContext = {}): Promise<void> {
  const now = ctx.now ?? Date.now();
  const { hits, more } = await searchSessions(text, flags, ctx);
  if (flags.json) {
    io.out(JSON.stringify(hits, null, 2));
    return;
  }
  if (!hits.length) {
    io.out(`no session mentions "${text}"`);
    return;
  }
  let last: string | null = null;
  for (const h of hits) {
    if (h.session.file !== last) {
      last = h.session.file;
      const s = h.session;
      io.out(`${s.id}  ${relativeTime(Date.parse(s.lastActivity), now)}  ${s.title ?? '(untitled)'}${s.cwd ? `  [${s.cwd}]` : ''}`);
    }
    io.out(`  ${`${h.line}`.padStart(6)} ${h.role.padEnd(9)} ${h.snippet}`);
  }
  if (more) io.out(`(more hits not shown: --limit <n> for more, --limit 0 for all)`);
}
