/**
 * The Continue CLI (`@continuedev/cli` on npm, command `cn`), as roam knows it: sessions under
 * `$CONTINUE_GLOBAL_DIR/sessions` (else `~/.continue/sessions`), `<uuid>.json` (adapter.ts,
 * session.ts), resumed with `cn --resume` after roam makes the session's file the newest, converted
 * from. Measured with 1.5.47 (docs/tools/continue.md). Listed in tools/registry.ts.
 */
import { ErrorCodes, RoamError } from '@roam/core/errors';
import { join } from 'node:path';
import { besideCache } from '../common/base.js';
import type { Tool } from '../types.js';
import { ContinueAdapter } from './adapter.js';
import { continueHome, fromContinue } from './session.js';

export { ContinueAdapter } from './adapter.js';

export const CONTINUE_VERSION = '1.5.47';

const LOG = /^([0-9a-fA-F-]{36})\.json$/;

export const continueCli: Tool<ContinueAdapter> = {
  name: 'continue',
  label: 'Continue CLI',
  about: { measured: CONTINUE_VERSION, does: ['sync', 'resume', 'convert-from'], doc: 'docs/tools/continue.md' },
  install: `npm i -g @continuedev/cli@${CONTINUE_VERSION}`,
  sessionsDir: (env) => join(continueHome(env), 'sessions'),
  adapter: (opts) => new ContinueAdapter(besideCache(opts, 'continue')),
  sessionOfItem(name) {
    const m = LOG.exec(name);
    return m ? { tool: 'continue', session: m[1]!.toLowerCase(), project: null } : null;
  },
  format: {
    read: fromContinue,
    write: () => {
      throw new RoamError(ErrorCodes.USAGE, 'roam converts Continue CLI sessions into the other tools, not yet into it', { tool: 'continue' });
    },
    transcriptPath: (target, id) => join(target.root(), 'sessions', `${id}.json`),
  },
};
