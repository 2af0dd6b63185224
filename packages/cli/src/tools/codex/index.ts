/**
 * Codex CLI, as roam knows it: rollouts under `$CODEX_HOME/sessions` (else `~/.codex/sessions`),
 * `YYYY/MM/DD/rollout-<time>-<id>.jsonl` (adapter.ts, rollout.ts), converted by format.ts,
 * imported by share.ts. Listed in tools/registry.ts.
 */
import { join } from 'node:path';
import { besideCache } from '../common/base.js';
import type { Tool } from '../types.js';
import { CodexAdapter, CODEX } from './adapter.js';
import { codexFormat } from './format.js';
import { codexHistory } from './history.js';
import { planCodex } from './share.js';

export { CodexAdapter, type CodexAdapterOptions } from './adapter.js';
export { codexTranscript, hasZstd, historyBase, readCodexMeta, ZSTD_TITLE } from './rollout.js';
export { rolloutTime } from './format.js';

/** `YYYY/MM/DD/rollout-<time>-<id>.jsonl` (also under `archived_sessions/`). */
const LOG = /(?:^|\/)rollout-[^/]+-([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\.jsonl$/i;

export const codex: Tool<CodexAdapter> = {
  name: 'codex',
  label: 'Codex',
  about: { measured: '0.169.0', does: ['sync', 'resume', 'convert-from', 'convert-to', 'share'], doc: 'docs/CODEX.md' },
  install: 'npm i -g @openai/codex',
  sessionsDir: (env) => join(CODEX.home(env), 'sessions'),
  adapter: (opts) => new CodexAdapter(besideCache(opts, 'codex')),
  sessionOfItem(name) {
    const m = LOG.exec(name);
    return m ? { tool: 'codex', session: m[1]!.toLowerCase(), project: null } : null;
  },
  format: codexFormat,
  importPlan: (bundle, adapter, cwd, newId) => planCodex(bundle, adapter, cwd, newId),
  unionLogs: [codexHistory],
};
