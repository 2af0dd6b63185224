/**
 * OpenCode and the tools forked from it (Kilo CLI) keep their sessions in one SQLite database
 * (tables session/message/part, docs/tools/opencode.md). What differs between them is named here,
 * one `Flavor` each (tools/opencode/index.ts, tools/kilo/index.ts); the rest of this folder is
 * shared: the database read (db.ts), the roam-owned log derived from it (log.ts, mirror.ts), the
 * session adapter (adapter.ts), the materialization through the tool's own import (materialize.ts)
 * and the conversion (convert.ts).
 */
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { roamPaths } from '../../../machine/paths.js';

export interface Flavor {
  /** roam's name of the tool (`--tool`, `--in`, its folder id). */
  readonly name: string;
  readonly label: string;
  /** Its command. */
  readonly bin: string;
  readonly install: string;
  /** The CLI version the facts were measured on (docs/tools/<tool>.md). */
  readonly version: string;
  /** Where its measured facts are written, from the repository's root (`roam tools`). */
  readonly doc: string;
  /** Its data directory (`$XDG_DATA_HOME/<dir>`, else `~/.local/share/<dir>`). */
  readonly dataDir: string;
  /** Its config files' names, in `$XDG_CONFIG_HOME/<dataDir>/` (else `~/.config/<dataDir>/`) and in a project, later ones winning. */
  readonly configNames: readonly string[];
  /** The database's file name in it. */
  readonly dbName: string;
  /**
   * The schema versions measured: the newest row of the database's `migration` table (its id, the
   * name of the tool's last migration). Another one is refused: neither read nor written.
   */
  readonly schemas: readonly string[];
  /**
   * A tool roam only captures (reads, never writes: no resume, no conversion into it), whose own
   * database is not OpenCode's: its rows, mapped to the log's shape, are appended by this instead
   * of mirror.ts's reading of session/message/part.
   */
  readonly captured?: {
    mirror(env: NodeJS.ProcessEnv): MirrorResult;
    /** The files whose change means there may be rows to append (roamd's pass is skipped while none changed). */
    sources(env: NodeJS.ProcessEnv): string[];
  };
  /** The shape of its session ids (default SESSION_ID, OpenCode's). */
  readonly ids?: RegExp;
}

export interface MirrorResult {
  /** Sessions whose log grew. */
  readonly sessions: string[];
  /** Lines appended in all. */
  readonly lines: number;
}

/** The tool's database on this device. */
export function dbPath(flavor: Flavor, env: NodeJS.ProcessEnv): string {
  const data = env.XDG_DATA_HOME ? join(env.XDG_DATA_HOME, flavor.dataDir) : join(env.HOME || homedir(), '.local', 'share', flavor.dataDir);
  return join(data, flavor.dbName);
}

/**
 * The roam-owned folder of the logs derived from the database: `<roam state>/tool-logs/<tool>/`,
 * one `<session id>.jsonl` per session. This is the folder roamd replicates (Tool.sessionsDir),
 * never the database.
 */
export function logDir(flavor: Flavor, env: NodeJS.ProcessEnv): string {
  return join(roamPaths(env).state, 'tool-logs', flavor.name);
}

/** The model the tool uses by default here (`model` of its config files, the project's last): null when none says. */
export function configuredModel(flavor: Flavor, env: NodeJS.ProcessEnv, dir: string): { providerID: string; modelID: string } | null {
  const config = env.XDG_CONFIG_HOME ? join(env.XDG_CONFIG_HOME, flavor.dataDir) : join(env.HOME || homedir(), '.config', flavor.dataDir);
  let model: string | null = null;
  for (const file of [...flavor.configNames.map((n) => join(config, n)), ...flavor.configNames.map((n) => join(dir, n))]) {
    try {
      // JSONC: whole-line comments only are removed.
      const o = JSON.parse(readFileSync(file, 'utf8').replace(/^\s*\/\/.*$/gm, '')) as { model?: unknown };
      if (typeof o.model === 'string' && o.model.includes('/')) model = o.model;
    } catch {
      // none, or not JSON
    }
  }
  if (!model) return null;
  const at = model.indexOf('/');
  return { providerID: model.slice(0, at), modelID: model.slice(at + 1) };
}

/** The ids the tool gives its sessions (`ses_` and base62): also a safe file name. */
export const SESSION_ID = /^ses_[0-9A-Za-z]{8,64}$/;
