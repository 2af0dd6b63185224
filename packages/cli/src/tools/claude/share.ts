/**
 * `roam import` of a Claude Code bundle: `projects/<key of the current directory>/<id>.jsonl`, the
 * bundle's `subagents/` and `tool-results/` under `projects/<key>/<id>/`. The CLI resumes a session
 * by its file name's UUID (docs/CLAUDE-CODE.md §8), so when that id is taken here (a session with
 * that id anywhere, or a file by that name in the key's folder), the session is imported under a
 * new UUID, and the `sessionId` of its lines is rewritten to it, as the CLI's own `--fork-session` does.
 */
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { ErrorCodes, RoamError } from '@roam/core/errors';
import type { SessionAdapter } from '../../sessions/types.js';
import { SESSION_FILE, type Bundle } from '../../share/bundle.js';
import { UUID, inside, rewriteLines, type ImportPlan, type PlannedFile } from '../../share/importer.js';

/** Lines of session `from` now say they are of session `to` (`sessionId`). */
export function reIdClaude(bytes: Buffer, from: string, to: string): Buffer {
  return rewriteLines(bytes, from, (o) => {
    if (o.sessionId !== from) return false;
    o.sessionId = to;
    return true;
  });
}

export interface ClaudeTarget {
  /** `<root>/projects`. */
  projectsDir(): string;
  projectKey(path: string): string;
  find: SessionAdapter['find'];
  resumeCommand: SessionAdapter['resumeCommand'];
}

/** The plan of a Claude Code bundle imported into the project of `cwd` (a real path). */
export async function planClaude(bundle: Bundle, adapter: ClaudeTarget, cwd: string, newId: () => string = randomUUID): Promise<ImportPlan> {
  const original = bundle.manifest.sessionId;
  const projDir = join(adapter.projectsDir(), adapter.projectKey(cwd));
  const taken = (id: string) => existsSync(join(projDir, `${id}.jsonl`)) || existsSync(join(projDir, id));
  let id = original;
  if (!UUID.test(original) || taken(original) || (await adapter.find(original)) !== null) {
    do id = newId();
    while (taken(id) || (await adapter.find(id)) !== null);
  }
  const renamed = id !== original;
  const sessionDir = join(projDir, id);
  const files: PlannedFile[] = [];
  let transcript: PlannedFile | null = null;
  for (const [name, raw] of bundle.files) {
    if (name !== SESSION_FILE && !/^(subagents|tool-results)\//.test(name)) throw new RoamError(ErrorCodes.BUNDLE_INVALID, `a Claude Code bundle holds ${SESSION_FILE}, subagents/ and tool-results/, not ${name}`, { name });
    const bytes = renamed && name.endsWith('.jsonl') ? reIdClaude(raw, original, id) : raw;
    if (name === SESSION_FILE) {
      transcript = { path: join(projDir, `${id}.jsonl`), bytes };
      continue;
    }
    const path = join(sessionDir, ...name.split('/'));
    // checkName already refused anything that could leave; this is the last guard.
    if (!inside(path, sessionDir)) throw new RoamError(ErrorCodes.PATH_ESCAPE, `${name} would be written outside ${sessionDir}`, { name });
    files.push({ path, bytes });
  }
  if (!transcript) throw new RoamError(ErrorCodes.BUNDLE_INVALID, `bundle holds no ${SESSION_FILE}`);
  files.push(transcript);
  return { tool: 'claude', originalId: original, id, renamed, transcript: transcript.path, files, command: adapter.resumeCommand(id, { cwd }) };
}
