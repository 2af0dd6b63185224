/**
 * Cursor (the IDE's chats), captured (read-only), as roam knows it (docs/tools/cursor.md): the
 * global `state.vscdb`'s `cursorDiskKV` composer data (store.ts), carried as roam-owned logs in the
 * OpenCode family's shape (tools/common/opencode/), listed, searched, shown, shared and converted
 * from (`roam resume <id> --in claude`); never written. Cursor is closed source: the format is what
 * public projects that read its stores document. Listed in tools/registry.ts.
 */
import { familyTool } from '../common/opencode/tool.js';
import type { Flavor } from '../common/opencode/family.js';
import { join } from 'node:path';
import { cursorUserDir, mirrorCursor } from './store.js';

export const CURSOR: Flavor = {
  name: 'cursor',
  label: 'Cursor',
  bin: 'cursor',
  install: 'https://cursor.com (closed source; roam only reads its chats)',
  version: 'composerData _v 3, 10 (public readers)',
  doc: 'docs/tools/cursor.md',
  dataDir: 'Cursor',
  configNames: [],
  dbName: 'state.vscdb',
  schemas: ['composerData _v 3', 'composerData _v 10'],
  ids: /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i,
  captured: {
    mirror: (env) => mirrorCursor(CURSOR, env),
    sources: (env) => ['state.vscdb', 'state.vscdb-wal'].map((f) => join(cursorUserDir(env), 'globalStorage', f)),
  },
};

export const cursor = familyTool(CURSOR);
