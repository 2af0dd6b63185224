/**
 * Kilo CLI (`@kilocode/cli` on npm, an OpenCode fork), as roam knows it (docs/tools/kilo.md): its
 * SQLite database `$XDG_DATA_HOME/kilo/kilo.db` (else `~/.local/share/kilo/kilo.db`), the same
 * session/message/part tables as OpenCode's, carried as roam-owned logs and brought into the
 * database through `kilo import` (tools/common/opencode/). Listed in tools/registry.ts.
 */
import { familyTool } from '../common/opencode/tool.js';
import type { Flavor } from '../common/opencode/family.js';

export const KILO: Flavor = {
  name: 'kilo',
  label: 'Kilo CLI',
  bin: 'kilo',
  install: 'npm i -g @kilocode/cli',
  version: '7.7.7',
  doc: 'docs/tools/kilo.md',
  dataDir: 'kilo',
  configNames: ['config.json', 'opencode.json', 'opencode.jsonc', 'kilo.json', 'kilo.jsonc'],
  dbName: 'kilo.db',
  schemas: ['20260907102000_kilocode_model_usage_index'],
};

export const kilo = familyTool(KILO);
