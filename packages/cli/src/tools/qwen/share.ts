/** `roam import` of a Qwen Code bundle: a session file under `$QWEN_HOME/projects/<key>/chats/` (docs/tools/qwen.md). */
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { ErrorCodes, RoamError } from '@roam/core/errors';
import { SESSION_FILE, type Bundle } from '../../share/bundle.js';
import { rewriteLines, type ImportPlan } from '../../share/importer.js';
import type { QwenAdapter } from './adapter.js';
import { qwenProjectKey } from './session.js';

/** The ids the CLI resumes (its SESSION_ID_REGEX, 0.15.10): UUIDs of versions 1 to 5. */
const QWEN_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[1-5][0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/i;

/**
 * The plan of a Qwen Code bundle: `projects/<key of cwd>/chats/<id>.jsonl` under `$QWEN_HOME`, every
 * record's `sessionId` changed to a new UUID when the id is taken here (or is not one the CLI
 * resumes), and every record's `cwd` changed to `cwd`, the directory it is imported into: the CLI
 * resumes a file only from the directory its first record names.
 */
export async function planQwen(bundle: Bundle, adapter: QwenAdapter, cwd: string, newId: () => string = randomUUID): Promise<ImportPlan> {
  const original = bundle.manifest.sessionId;
  let id = original;
  if (!QWEN_ID.test(original) || (await adapter.find(original)) !== null) {
    do id = newId();
    while ((await adapter.find(id)) !== null);
  }
  const raw = bundle.files.get(SESSION_FILE);
  if (!raw || bundle.files.size !== 1) throw new RoamError(ErrorCodes.BUNDLE_INVALID, `a Qwen Code bundle holds ${SESSION_FILE} and nothing else`);
  const bytes = rewriteLines(raw, '"sessionId"', (o) => {
    let changed = false;
    if (o.sessionId !== id) (o.sessionId = id), (changed = true);
    if (typeof o.cwd === 'string' && o.cwd !== cwd) (o.cwd = cwd), (changed = true);
    return changed;
  });
  const transcript = join(adapter.root(), 'projects', qwenProjectKey(cwd), 'chats', `${id}.jsonl`);
  if (existsSync(transcript)) throw new RoamError(ErrorCodes.USAGE, `${transcript} exists already`);
  return { tool: 'qwen', originalId: original, id, renamed: id !== original, transcript, files: [{ path: transcript, bytes }], command: adapter.resumeCommand(id, { cwd }) };
}
