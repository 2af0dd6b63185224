/**
 * Aider, captured: a project's `.aider.chat.history.md` (history.ts, adapter.ts), read from the
 * format its public source writes (docs/tools/aider.md). Aider keeps no store of its own, so it
 * has no folder for roamd: its history travels with the project. Listed in tools/registry.ts.
 */
import { RoamError, ErrorCodes } from '@roam/core/errors';
import type { Tool } from '../types.js';
import { AiderAdapter } from './adapter.js';
import { parseAider } from './history.js';

export { AiderAdapter } from './adapter.js';
export { parseAider } from './history.js';

export const aider: Tool<AiderAdapter> = {
  name: 'aider',
  label: 'Aider',
  about: { measured: 'source 0.86', does: ['capture', 'convert-from'], doc: 'docs/tools/aider.md' },
  adapter: (opts) => new AiderAdapter(opts),
  sessionOfItem: () => null,
  format: {
    read(text, id) {
      const items = parseAider(text).messages.map((m) => ({ type: 'text' as const, role: m.role, text: m.text, ts: m.run === null ? null : `${m.run}Z` }));
      return { tool: 'aider', id, items, started: items[0]?.ts ?? null, model: null, gitBranch: null };
    },
    write: () => {
      throw new RoamError(ErrorCodes.USAGE, 'Aider is captured only: roam reads its chat history but does not write one');
    },
    transcriptPath: () => AIDER_NONE,
  },
};

const AIDER_NONE = '/nonexistent/aider';
