/** Qwen Code's conversion format (convert/format.ts): its source, its target and where a converted session lives. */
import { join } from 'node:path';
import type { Format } from '../../convert/format.js';
import type { QwenAdapter } from './adapter.js';
import { qwenProjectKey } from './session.js';
import { fromQwen } from './source.js';
import { toQwen } from './target.js';

/**
 * Qwen Code: `projects/<key of the directory>/chats/<id>.jsonl`; the CLI finds it there by id with
 * no index (measured, docs/tools/qwen.md).
 */
export const qwenFormat: Format<QwenAdapter> = {
  /** Qwen Code resumes only UUIDs of versions 1 to 5 (its SESSION_ID_REGEX): the derived id as version 4. */
  sessionId: (derived) => `${derived.slice(0, 14)}4${derived.slice(15)}`,
  read: fromQwen,
  write: toQwen,
  transcriptPath: (target, id, dir) => join(target.root(), 'projects', qwenProjectKey(dir), 'chats', `${id}.jsonl`),
};
