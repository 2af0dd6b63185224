/**
 * The Cline CLI's conversion format (convert/format.ts): read from `<id>.messages.json` (user
 * texts without their `<user_input>` wrapper; Anthropic `tool_use`/`tool_result` blocks as calls
 * and outputs, read as tasks.ts reads the extension's), written by target.ts.
 */
import { join } from 'node:path';
import type { Format } from '../../convert/format.js';
import { fromTask } from '../common/tasks.js';
import type { ClineCliAdapter } from './adapter.js';
import { clineCliMessages } from './session.js';
import { clineCliCompanions, clineCliId, toClineCli } from './target.js';

export const clineCliFormat: Format<ClineCliAdapter> = {
  read: (text, id, notes) => fromTask('cline-cli', JSON.stringify(clineCliMessages(text) ?? []), id, notes),
  idOf: clineCliId,
  write: toClineCli,
  companions: clineCliCompanions,
  transcriptPath: (target, id) => join(target.root(), 'data', 'sessions', id, `${id}.messages.json`),
  taken: (transcript) => [transcript.replace(/\.messages\.json$/, '.json')],
};
