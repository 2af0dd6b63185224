/**
 * OpenCode (`opencode-ai` on npm), as roam knows it (docs/tools/opencode.md): its SQLite database
 * `$XDG_DATA_HOME/opencode/opencode.db` (else `~/.local/share/opencode/opencode.db`), tables
 * session/message/part, carried between devices as roam-owned logs and brought into the database
 * through `opencode import` (tools/common/opencode/). Listed in tools/registry.ts.
 */
import { familyTool } from '../common/opencode/tool.js';
import type { Flavor } from '../common/opencode/family.js';

export const OPENCODE: Flavor = {
  name: 'opencode',
  label: 'OpenCode',
  bin: 'opencode',
  install: 'npm i -g opencode-ai',
  version: '1.18.33',
  doc: 'docs/tools/opencode.md',
  dataDir: 'opencode',
  configNames: ['config.json', 'opencode.json', 'opencode.jsonc'],
  dbName: 'opencode.db',
  schemas: ['20260622202450_simplify_session_input'],
};

export const opencode = familyTool(OPENCODE);
