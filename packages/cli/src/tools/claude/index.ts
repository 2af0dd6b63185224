/**
 * Claude Code, as roam knows it: sessions under `$CLAUDE_CONFIG_DIR/projects` (else
 * `~/.claude/projects`), one `<project key>/<id>.jsonl` each (adapter.ts), converted by format.ts,
 * imported by share.ts. Listed in tools/registry.ts.
 */
import { basename, dirname, join } from 'node:path';
import type { Tool } from '../types.js';
import { ClaudeAdapter, CLAUDE } from './adapter.js';
import { claudeFormat } from './format.js';
import { claudeHistory } from './history.js';
import { planClaude } from './share.js';
import { claudeStateFolders } from './state.js';

export { ClaudeAdapter, javaStringHash, keyMatches, longKeySuffix, projectKey, type ClaudeAdapterOptions } from './adapter.js';

/** `<project>/<id>.jsonl`: a sub-agent's or a tool result's file (deeper) is not the session's own log. */
const LOG = /^([^/]+)\/([^/]+)\.jsonl$/;

export const claude: Tool<ClaudeAdapter> = {
  name: 'claude',
  label: 'Claude Code',
  about: { measured: '2.1.329', does: ['sync', 'resume', 'convert-from', 'convert-to', 'share'], doc: 'docs/CLAUDE-CODE.md' },
  install: 'npm i -g @anthropic-ai/claude-code',
  sessionsDir: (env) => join(CLAUDE.home(env), 'projects'),
  stateFolders: (env) => claudeStateFolders(CLAUDE.home(env)),
  adapter: (opts) => new ClaudeAdapter(opts),
  sessionOfItem(name) {
    const m = LOG.exec(name);
    return m ? { tool: 'claude', session: m[2]!, project: m[1]! } : null;
  },
  wireProjects: true,
  format: claudeFormat,
  importPlan: (bundle, adapter, cwd, newId) => planClaude(bundle, adapter, cwd, newId),
  /** Its `<id>/subagents` and `<id>/tool-results` folders. */
  bundleParts(session) {
    const base = join(dirname(session.file), basename(session.file, '.jsonl'));
    return ['subagents', 'tool-results'].map((f) => ({ name: f, path: join(base, f), folder: true }));
  },
  unionLogs: [claudeHistory],
};
