/**
 * GitHub Copilot CLI, as roam knows it: sessions under `$COPILOT_HOME/session-state` (else
 * `~/.copilot/session-state`), one `<id>/` directory each with `events.jsonl` (adapter.ts,
 * events.ts), converted by format.ts, imported by share.ts. Listed in tools/registry.ts.
 */
import { dirname, join } from 'node:path';
import { besideCache } from '../common/base.js';
import type { Tool } from '../types.js';
import { CopilotAdapter, COPILOT } from './adapter.js';
import { copilotFormat } from './format.js';
import { planCopilot } from './share.js';

export { CopilotAdapter, isCopilotId, type CopilotAdapterOptions } from './adapter.js';
export { copilotTranscript, parseWorkspaceYaml, yamlScalar } from './events.js';

/** `<id>/events.jsonl`. */
const LOG = /^([^/]+)\/events\.jsonl$/;

/**
 * What a bundle carries of a session directory besides events.jsonl: what the CLI's own fork copies
 * (client-metadata.json left out); not `session.db` (SQLite, per machine), lock files, or
 * `rewind-file-snapshots/` (this machine's copies of edited files, for /rewind here).
 */
const FILES = ['workspace.yaml', 'plan.md'];
const FOLDERS = ['checkpoints', 'files', 'research'];

export const copilot: Tool<CopilotAdapter> = {
  name: 'copilot',
  label: 'Copilot CLI',
  about: { measured: '1.0.102', does: ['sync', 'resume', 'convert-from', 'convert-to', 'share'], doc: 'docs/COPILOT.md' },
  install: 'npm i -g @github/copilot',
  sessionsDir: (env) => join(COPILOT.home(env), 'session-state'),
  adapter: (opts) => new CopilotAdapter(besideCache(opts, 'copilot')),
  sessionOfItem(name) {
    const m = LOG.exec(name);
    return m ? { tool: 'copilot', session: m[1]!, project: null } : null;
  },
  format: copilotFormat,
  importPlan: (bundle, adapter, cwd, newId) => planCopilot(bundle, adapter, cwd, newId),
  bundleParts(session) {
    const dir = dirname(session.file);
    return [...FILES.map((f) => ({ name: f, path: join(dir, f), folder: false })), ...FOLDERS.map((f) => ({ name: f, path: join(dir, f), folder: true }))];
  },
};
