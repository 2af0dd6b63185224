/** Claude Code's conversion format (convert/format.ts): its source, its target and where a converted session lives. */
import { join } from 'node:path';
import type { Format } from '../../convert/format.js';
import type { ClaudeAdapter } from './adapter.js';
import { fromClaude } from './source.js';
import { toClaude } from './target.js';

export const claudeFormat: Format<ClaudeAdapter> = {
  read: fromClaude,
  write: toClaude,
  transcriptPath: (target, id, dir) => join(target.root(), 'projects', target.projectKey(dir), `${id}.jsonl`),
  // `<key>/<id>/` holds a session's tool results: a folder by that name with no session in it takes the id too.
  taken: (transcript) => [transcript.slice(0, -'.jsonl'.length)],
};

