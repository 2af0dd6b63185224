/**
 * The registry entry (tools/types.ts Tool) of an OpenCode-family tool, from its Flavor: roam syncs
 * the roam-owned log folder (never the database), roamd keeps the logs up to date (`mirror`).
 */
import type { Tool } from '../../types.js';
import { besideCache } from '../base.js';
import { OpencodeFamilyAdapter } from './adapter.js';
import { familyFormat } from './convert.js';
import { logDir, SESSION_ID, type Flavor } from './family.js';
import { mirrorDb } from './mirror.js';

export function familyTool(flavor: Flavor): Tool<OpencodeFamilyAdapter> {
  return {
    name: flavor.name,
    label: flavor.label,
    install: flavor.install,
    version: flavor.version,
    capabilities: flavor.captured ? ['sync', 'capture'] : ['sync', 'resume', 'convert'],
    sessionsDir: (env) => logDir(flavor, env),
    adapter: (opts) => new OpencodeFamilyAdapter(flavor, besideCache(opts, flavor.name)),
    sessionOfItem(name) {
      const m = /^([^/]+)\.jsonl$/.exec(name);
      return m && (flavor.ids ?? SESSION_ID).test(m[1]!) ? { tool: flavor.name, session: m[1]!, project: null } : null;
    },
    format: familyFormat(flavor),
    mirror(env) {
      const r = mirrorDb(flavor, env);
      return r.lines ? [`${flavor.label}: ${r.lines} row(s) of ${r.sessions.length} session(s) appended to their logs`] : [];
    },
  };
}
