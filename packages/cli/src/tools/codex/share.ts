/** `roam import` of a Codex bundle: a rollout under `$CODEX_HOME/sessions/` (docs/CODEX.md). */
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { ErrorCodes, RoamError } from '@roam/core/errors';
import type { SessionAdapter } from '../../sessions/types.js';
import { SESSION_FILE, type Bundle } from '../../share/bundle.js';
import { UUID, rewriteLines, type ImportPlan } from '../../share/importer.js';
import { rolloutTime } from './format.js';

export interface CodexTarget {
  root(): string;
  find: SessionAdapter['find'];
  resumeCommand: SessionAdapter['resumeCommand'];
}

/**
 * The plan of a Codex bundle: a rollout `sessions/YYYY/MM/DD/rollout-<time>-<id>.jsonl` under
 * `$CODEX_HOME` (the date of the session's first line), its `session_meta` id changed to a new
 * UUID when the id is taken here, and the recorded cwd (`session_meta`, `turn_context`) changed to
 * `cwd`, the directory it is imported into: Codex's picker lists a directory's sessions by it.
 */
export async function planCodex(bundle: Bundle, adapter: CodexTarget, cwd: string, newId: () => string = randomUUID, now = Date.now()): Promise<ImportPlan> {
  const original = bundle.manifest.sessionId;
  let id = original;
  if (!UUID.test(original) || (await adapter.find(original)) !== null) {
    do id = newId();
    while ((await adapter.find(id)) !== null);
  }
  const raw = bundle.files.get(SESSION_FILE);
  if (!raw || bundle.files.size !== 1) throw new RoamError(ErrorCodes.BUNDLE_INVALID, `a Codex bundle holds ${SESSION_FILE} and nothing else`);
  const bytes = rewriteLines(raw, '"payload"', (o) => {
    const p = o.payload as Record<string, unknown> | undefined;
    if (!p || typeof p !== 'object') return false;
    let changed = false;
    if (o.type === 'session_meta') {
      if (p.id === original && id !== original) (p.id = id), (changed = true);
      if (typeof p.cwd === 'string' && p.cwd !== cwd) (p.cwd = cwd), (changed = true);
    } else if (o.type === 'turn_context' && typeof p.cwd === 'string' && p.cwd !== cwd) (p.cwd = cwd), (changed = true);
    return changed;
  });
  const created = bundle.manifest.created !== null ? new Date(bundle.manifest.created) : new Date(now);
  const t = rolloutTime(Number.isFinite(created.getTime()) ? created : new Date(now));
  const dir = join(adapter.root(), 'sessions', ...t.dir);
  const transcript = join(dir, `rollout-${t.stamp}-${id}.jsonl`);
  if (existsSync(transcript)) throw new RoamError(ErrorCodes.USAGE, `${transcript} exists already`);
  return { tool: 'codex', originalId: original, id, renamed: id !== original, transcript, files: [{ path: transcript, bytes }], command: adapter.resumeCommand(id, { cwd }) };
}
