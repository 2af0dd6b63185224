/**
 * The registry entry (tools/types.ts Tool) of an OpenCode-family tool, from its Flavor: roam syncs
 * the roam-owned log folder (never the database), roamd keeps the logs up to date (`mirror`).
 */
import type { Tool } from '../../types.js';
import { besideCache } from '../base.js';
import { OpencodeFamilyAdapter } from './adapter.js';
import { familyFormat } from './convert.js';
import { statSync } from 'node:fs';
import { dbPath, logDir, SESSION_ID, type Flavor } from './family.js';
import { mirrorDb } from './mirror.js';

/** Size and time of each file (`-` for none): what a pass of roamd's mirror is skipped on while it stays the same. */
function signature(files: readonly string[]): string {
  return files.map((f) => {
    const st = statSync(f, { throwIfNoEntry: false });
    return st ? `${st.size}:${st.mtimeMs}` : '-';
  }).join(' ');
}

export function familyTool(flavor: Flavor): Tool<OpencodeFamilyAdapter> {
  // roamd's last pass, per database location (HOME): the database unchanged since, nothing is read.
  const seen = new Map<string, string>();
  return {
    name: flavor.name,
    label: flavor.label,
    install: flavor.install,
    about: {
      measured: flavor.version,
      does: flavor.captured ? ['sync', 'capture', 'convert-from'] : ['sync', 'resume', 'convert-from', 'convert-to'],
      doc: flavor.doc,
    },
    sessionsDir: (env) => logDir(flavor, env),
    adapter: (opts) => new OpencodeFamilyAdapter(flavor, besideCache(opts, flavor.name)),
    sessionOfItem(name) {
      const m = /^([^/]+)\.jsonl$/.exec(name);
      return m && (flavor.ids ?? SESSION_ID).test(m[1]!) ? { tool: flavor.name, session: m[1]!, project: null } : null;
    },
    format: familyFormat(flavor),
    mirror(env) {
      const db = dbPath(flavor, env);
      const sig = signature(flavor.captured ? flavor.captured.sources(env) : [db, `${db}-wal`]);
      if (seen.get(db) === sig) return [];
      const r = mirrorDb(flavor, env);
      seen.set(db, sig);
      return r.lines ? [`${flavor.label}: ${r.lines} row(s) of ${r.sessions.length} session(s) appended to their logs`] : [];
    },
  };
}
