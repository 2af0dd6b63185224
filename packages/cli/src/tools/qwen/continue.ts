/**
 * `roam resume` of a Qwen Code session in a directory other than the one it recorded (docs/tools/qwen.md
 * "A project at another path"). Qwen Code 0.15.10 resumes a file only when the sha256 of its first
 * record's `cwd` equals that of `process.cwd()` (SessionService.loadSession in cli.js), and roam never
 * rewrites a transcript: the session continues here as a new Qwen Code session, a copy of the file
 * under this directory's key with every record's `sessionId` the new id and `cwd` this directory, as
 * `roam import` files a shared session (share.ts). The original is untouched, on every device.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { rewriteLines } from '../../share/importer.js';
import type { SessionInfo } from '../../sessions/types.js';
import { qwenProjectKey } from './session.js';

/** What of the adapter this needs (adapter.ts imports this module). */
export interface QwenStore {
  root(): string;
  find(id: string): Promise<SessionInfo | null>;
}

/** The id of session `id`'s continuation in `dir`: the same on every run, a version 4 UUID (the CLI's SESSION_ID_REGEX). */
export function continuationId(id: string, dir: string): string {
  const h = createHash('sha256').update(`roam qwen continuation\n${id}\n${dir}`).digest('hex');
  const variant = ((parseInt(h[16]!, 16) & 0x3) | 0x8).toString(16);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-${variant}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

/**
 * The session to resume in `dir` instead of `session`, or null when the CLI resumes `session` there
 * as it is (its first record names `dir`). The continuation is written unless `dryRun`; one made by
 * an earlier `roam resume` in `dir` is resumed again (it holds what was said here since).
 */
export async function continueQwen(adapter: QwenStore, session: SessionInfo, dir: string, opts: { dryRun?: boolean } = {}): Promise<{ session: SessionInfo; lines: string[] } | null> {
  if (session.cwd === null || session.cwd === dir) return null;
  const id = continuationId(session.id, dir);
  const file = join(adapter.root(), 'projects', qwenProjectKey(dir), 'chats', `${id}.jsonl`);
  const why = `Qwen Code resumes a session only in the directory its first record names (${session.cwd}), not ${dir}`;
  if (existsSync(file)) {
    const made = await adapter.find(id);
    if (made) return { session: made, lines: [`${why}: continuing ${session.id} here in Qwen Code session ${id}, its continuation for this directory made by an earlier roam resume (turns added to ${session.id} since then are not in it)`] };
  }
  const bytes = rewriteLines(readFileSync(session.file), '"sessionId"', (o) => {
    let changed = false;
    if (o.sessionId !== id) (o.sessionId = id), (changed = true);
    if (typeof o.cwd === 'string' && o.cwd !== dir) (o.cwd = dir), (changed = true);
    return changed;
  });
  const lines = [`${why}: continuing ${session.id} here as a new Qwen Code session ${id} (a copy of it for this directory; ${session.id} is left as it is)`];
  const next: SessionInfo = { ...session, id, file, cwd: dir, projectKey: qwenProjectKey(dir) };
  if (opts.dryRun) return { session: next, lines };
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, bytes, { flag: 'wx' });
  return { session: (await adapter.find(id)) ?? next, lines };
}
