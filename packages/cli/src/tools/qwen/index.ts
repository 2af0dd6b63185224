/**
 * Qwen Code, as roam knows it: sessions under `$QWEN_HOME/projects` (else `~/.qwen/projects`),
 * `<key of the directory>/chats/<id>.jsonl` (adapter.ts, session.ts), converted by format.ts, imported by share.ts.
 * Measured with @qwen-code/qwen-code 0.15.10 (docs/tools/qwen.md). Listed in tools/registry.ts.
 */
import { join } from 'node:path';
import { besideCache } from '../common/base.js';
import type { Tool } from '../types.js';
import { QWEN, QwenAdapter } from './adapter.js';
import { qwenFormat } from './format.js';
import { QWEN_FORMAT_VERSION } from './target.js';
import { planQwen } from './share.js';

export { QwenAdapter } from './adapter.js';
export { parseQwenSession, qwenProjectKey, qwenTranscript } from './session.js';
export { QWEN_FORMAT_VERSION } from './target.js';

/** `<key>/chats/<id>.jsonl`. */
const LOG = /^([^/]+)\/chats\/([0-9a-fA-F-]{36})\.jsonl$/;

export const qwen: Tool<QwenAdapter> = {
  name: 'qwen',
  label: 'Qwen Code',
  about: { measured: QWEN_FORMAT_VERSION, does: ['sync', 'resume', 'convert-from', 'convert-to', 'share'], doc: 'docs/tools/qwen.md' },
  install: 'npm i -g @qwen-code/qwen-code@0.15.10',
  sessionsDir: (env) => join(QWEN.home(env), 'projects'),
  adapter: (opts) => new QwenAdapter(besideCache(opts, 'qwen')),
  sessionOfItem(name) {
    const m = LOG.exec(name);
    return m ? { tool: 'qwen', session: m[2]!.toLowerCase(), project: m[1]! } : null;
  },
  format: qwenFormat,
  importPlan: (bundle, adapter, cwd, newId) => planQwen(bundle, adapter, cwd, newId),
};
