/** Gemini CLI's conversion format (convert/format.ts): its source, its target and where a converted session lives. */
import { basename, dirname, join } from 'node:path';
import type { Format } from '../../convert/format.js';
import type { GeminiAdapter } from './adapter.js';
import { fromGemini } from './source.js';
import { geminiFileName, toGemini } from './target.js';

/**
 * Gemini CLI: `tmp/<slug>/chats/session-<UTC minute now>-<id8>.jsonl`, the slug being the one the
 * CLI files the directory under (projects.json, or the one it would claim), registered in
 * projects.json with its ownership markers after writing (docs/GEMINI.md). The current minute, not
 * the source's: a resume in another minute than the file's name leaves the CLI's stub file beside it.
 */
export const geminiFormat: Format<GeminiAdapter> = {
  read: fromGemini,
  write: toGemini,
  transcriptPath: (target, id, dir) => join(target.root(), 'tmp', target.slugFor(dir), 'chats', geminiFileName(id, new Date())),
  register(written, target) {
    const file = written.files[0]?.path;
    if (!file) return [];
    return target.registerProject(written.cwd, basename(dirname(dirname(file))));
  },
};

