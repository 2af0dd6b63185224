/**
 * The Cline CLI (`cline` on npm), as roam knows it: sessions under `~/.cline/data/sessions/<id>/`
 * (adapter.ts, session.ts), resumed with `cline --id <id>` in its terminal UI, converted by
 * format.ts. Named `cline-cli` beside the Cline VS Code extension (tools/cline). Measured with
 * `cline` 3.0.65 (docs/tools/cline.md). Listed in tools/registry.ts.
 */
import { besideCache } from '../common/base.js';
import type { Tool } from '../types.js';
import { ClineCliAdapter } from './adapter.js';
import { clineCliFormat } from './format.js';
import { CLINE_CLI_ID, clineCliSessions } from './session.js';
import { CLINE_CLI_VERSION } from './target.js';

export { ClineCliAdapter } from './adapter.js';
export { CLINE_CLI_VERSION } from './target.js';

/** `<id>/<id>.messages.json`. */
const LOG = /^([^/]+)\/([^/]+)\.messages\.json$/;

export const clineCli: Tool<ClineCliAdapter> = {
  name: 'cline-cli',
  label: 'Cline CLI',
  about: { measured: CLINE_CLI_VERSION, does: ['sync', 'resume', 'convert-from', 'convert-to'], doc: 'docs/tools/cline.md' },
  install: `npm i -g cline@${CLINE_CLI_VERSION}`,
  sessionsDir: clineCliSessions,
  adapter: (opts) => new ClineCliAdapter(besideCache(opts, 'cline-cli')),
  sessionOfItem(name) {
    const m = LOG.exec(name);
    return m && m[1] === m[2] && CLINE_CLI_ID.test(m[1]!) ? { tool: 'cline-cli', session: m[1]!, project: null } : null;
  },
  format: clineCliFormat,
};
