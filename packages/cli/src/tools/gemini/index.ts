/**
 * Gemini CLI, as roam knows it: sessions under `$GEMINI_CLI_HOME/.gemini/tmp` (else
 * `~/.gemini/tmp`; GEMINI_CLI_HOME stands for the home directory, docs/GEMINI.md),
 * `<slug>/chats/session-<time>-<id8>.jsonl` (adapter.ts, session.ts, projects.ts), converted by
 * format.ts, imported by share.ts. Listed in tools/registry.ts.
 */
import { dirname, join } from 'node:path';
import { besideCache } from '../common/base.js';
import type { Tool } from '../types.js';
import { GeminiAdapter, geminiHome } from './adapter.js';
import { geminiFormat } from './format.js';
import { planGemini } from './share.js';

export { GeminiAdapter, type GeminiAdapterOptions } from './adapter.js';
export { geminiTranscript, parseGeminiSession, projectHash, slugify } from './session.js';

/** `<slug>/chats/session-<time>-<id8>.jsonl`: the full id is in its first line. */
const LOG = /^([^/]+)\/chats\/session-[^/]+\.jsonl$/;

export const gemini: Tool<GeminiAdapter> = {
  name: 'gemini',
  label: 'Gemini CLI',
  about: { measured: '0.61.0', does: ['sync', 'resume', 'convert-from', 'convert-to', 'share'], doc: 'docs/GEMINI.md' },
  install: 'npm i -g @google/gemini-cli',
  sessionsDir: (env) => join(geminiHome(env), 'tmp'), // GEMINI_CLI_HOME stands for the home directory (docs/GEMINI.md)
  adapter: (opts) => new GeminiAdapter(besideCache(opts, 'gemini')),
  sessionOfItem(name, root, headId) {
    const m = LOG.exec(name);
    if (!m) return null;
    const id = headId(join(root, name));
    return id ? { tool: 'gemini', session: id, project: m[1]! } : null;
  },
  format: geminiFormat,
  importPlan: (bundle, adapter, cwd, newId) => planGemini(bundle, adapter, cwd, newId),
  /** Its sub-agents' sessions, `chats/<id>/…` (as `subagents/…`). */
  bundleParts: (session) => [{ name: 'subagents', path: join(dirname(session.file), session.id), folder: true }],
};
