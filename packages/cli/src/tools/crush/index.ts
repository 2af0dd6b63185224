/**
 * Crush (`@charmland/crush`), captured (read-only), as roam knows it (docs/tools/crush.md): one
 * SQLite database per project (store.ts), its sessions carried as roam-owned logs in the OpenCode
 * family's shape (tools/common/opencode/), listed, searched, shown, shared and converted from
 * (`roam resume <id> --in claude`); never written, never resumed in Crush itself. Its npm
 * postinstall downloads the binary from outside the registry, so the schema comes from Crush's
 * public source (internal/db/migrations). Listed in tools/registry.ts.
 */
import { familyTool } from '../common/opencode/tool.js';
import type { Flavor } from '../common/opencode/family.js';
import { crushDatabases, mirrorCrush, projectsFile } from './store.js';

export const CRUSH: Flavor = {
  name: 'crush',
  label: 'Crush',
  bin: 'crush',
  install: 'npm i -g @charmland/crush',
  version: 'source, migration 20260925000000',
  doc: 'docs/tools/crush.md',
  dataDir: 'crush',
  configNames: [],
  dbName: 'crush.db',
  schemas: ['20260925000000'],
  ids: /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i,
  captured: { mirror: (env) => mirrorCrush(CRUSH, env), sources: (env) => [projectsFile(env), ...crushDatabases(env).flatMap(([, db]) => [db, `${db}-wal`])] },
};

export const crush = familyTool(CRUSH);
