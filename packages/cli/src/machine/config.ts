/**
 * The daemon's configuration: `config.json` in the config directory (validated), the folders to
 * sync (the tools' session roots that exist, plus user-defined ones; roamd also takes a tool's
 * root once it appears or a peer shares it), and the command line.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { homedir, hostname } from 'node:os';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { RoamError } from '@roam/core/errors';
import { fromHex } from '@roam/core/bytes';
import { z } from 'zod';
import { allTools, allUnionLogs, stateFolders } from '../tools/registry.js';
import { roamPaths } from './paths.js';
import { checkUserConfig, USER_CONFIG_FOLDER, userConfigDir, userConfigEntries } from './user-config.js';

export interface FolderSpec {
  readonly id: string;
  readonly path: string;
  readonly conflict: 'fork' | 'syncthing';
  readonly logDeletes: 'local' | 'propagate';
  /** A tool's folder that lives in roam's state (a union log): it is this device's once this path (the tool's home) exists. */
  readonly appears?: string;
}

const folderSchema = z.strictObject({
  id: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/),
  path: z.string().min(1),
  conflict: z.enum(['fork', 'syncthing']).optional(),
  logDeletes: z.enum(['local', 'propagate']).optional(),
});

const configSchema = z.strictObject({
  name: z.string().min(1).max(128).optional(),
  listen: z.array(z.string()).optional(),
  peers: z.array(z.string()).optional(),
  mdns: z.boolean().optional(),
  /** UPnP port mapping on the home router (on unless false; only when listening beyond loopback). */
  upnp: z.boolean().optional(),
  folders: z.array(folderSchema).optional(),
  /**
   * Folder ids this device does not sync: a tool's folder (neither synced when it exists here nor
   * taken when a peer shares it), or a folder a peer offers. Announced to peers as opted out.
   */
  exclude: z.array(z.string()).optional(),
  /** Selective sync: per folder id, the top-level entries (projects) to sync; absent means all. */
  only: z.record(z.string(), z.array(z.string().min(1).max(255)).max(1024)).optional(),
  /** Claude Code projects: a project's wire name (`roam map`) → its directory on this device. */
  map: z.record(z.string().min(1).max(255), z.string().min(1)).optional(),
  /**
   * User-level configuration this device opts into, per tool (`roam userconfig enable`):
   * kinds such as CLAUDE.md, settings, commands (machine/user-config.ts). Credentials are refused.
   */
  userConfig: z.record(z.string(), z.array(z.string().min(1).max(64)).max(32)).optional(),
  /** `roam resume`'s warnings: the namespace projects should live under, and when a session is stale. */
  resume: z
    .strictObject({
      namespace: z.string().min(1).nullable().optional(),
      staleHours: z.number().positive().nullable().optional(),
      syncTimeout: z.number().positive().optional(),
    })
    .optional(),
});

export type FileConfig = z.infer<typeof configSchema>;

/** Writes config.json (0600), keeping what it does not change. */
export function writeConfigFile(file: string, cfg: FileConfig): void {
  writeFileSync(file, `${JSON.stringify(cfg, null, 2)}\n`, { mode: 0o600 });
}

export function readConfigFile(file: string): FileConfig {
  if (!existsSync(file)) return {};
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new RoamError('ROAM_CONFIG', `${file} is not valid JSON: ${(err as Error).message}`);
  }
  const parsed = configSchema.safeParse(raw);
  if (!parsed.success) throw new RoamError('ROAM_CONFIG', `${file}: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  checkUserConfig(parsed.data.userConfig);
  return parsed.data;
}

/**
 * The tools' session roots on this device (each tool's sessionsDir, tools/registry.ts), under HOME
 * or the tools' own environment variables, whether they exist or not: where a tool's folder is taken when a peer shares it.
 */
export function toolFolders(env: NodeJS.ProcessEnv = process.env): FolderSpec[] {
  const sessions = allTools().flatMap((t): FolderSpec[] => (t.sessionsDir ? [{ id: t.name, path: t.sessionsDir(env), conflict: 'fork', logDeletes: 'local' }] : []));
  // Per-session state (Claude Code's file-history/, tasks/, …): whole files, the newer version wins
  // and the other is kept as a conflict copy.
  const state = stateFolders(env).map((f): FolderSpec => ({ id: f.id, path: f.path, conflict: 'syncthing', logDeletes: 'local' }));
  // The union logs' per-device logs live in roam's state; the tool's file is their view.
  const union = allUnionLogs().map((u): FolderSpec => ({ id: u.id, path: join(roamPaths(env).state, 'union', u.id), conflict: 'fork', logDeletes: 'local', appears: dirname(u.file(env)) }));
  return [...sessions, ...state, ...union];
}

/** Whether a tool's folder is this device's: its root (or, for a union log, the tool's home) exists. */
export function folderPresent(f: FolderSpec, exists: (path: string) => boolean = existsSync): boolean {
  return exists(f.appears ?? f.path);
}

/** The tools' session roots that exist. */
export function defaultFolders(env: NodeJS.ProcessEnv = process.env): FolderSpec[] {
  return toolFolders(env).filter((f) => folderPresent(f));
}

export function folderList(cfg: FileConfig, env: NodeJS.ProcessEnv = process.env): FolderSpec[] {
  const home = env.HOME || homedir();
  const out = new Map<string, FolderSpec>();
  const excluded = excludedFolders(cfg, env);
  for (const f of defaultFolders(env)) if (!excluded.has(f.id)) out.set(f.id, f);
  for (const f of cfg.folders ?? []) {
    const path = f.path.startsWith('~/') ? join(home, f.path.slice(2)) : isAbsolute(f.path) ? f.path : resolve(f.path);
    out.set(f.id, { id: f.id, path, conflict: f.conflict ?? 'fork', logDeletes: f.logDeletes ?? 'local' });
  }
  // User configuration: only on a device that opted into some of it.
  if (userConfigEntries(cfg.userConfig)) out.set(USER_CONFIG_FOLDER, { id: USER_CONFIG_FOLDER, path: userConfigDir(env), conflict: 'syncthing', logDeletes: 'local' });
  return [...out.values()];
}

/**
 * The folder ids this device opts out of: config.json `exclude` (a tool excluded takes its state
 * folders and its prompt history's union log with it; either can also be excluded alone), and the user configuration's staging folder unless it opted into some of it
 * (so a peer's offer of it never holds sync open).
 */
export function excludedFolders(cfg: FileConfig, env: NodeJS.ProcessEnv = process.env): Set<string> {
  const out = new Set(cfg.exclude ?? []);
  for (const f of stateFolders(env)) if (out.has(f.tool)) out.add(f.id);
  for (const t of allTools()) if (out.has(t.name)) for (const u of t.unionLogs ?? []) out.add(u.id);
  if (!userConfigEntries(cfg.userConfig)) out.add(USER_CONFIG_FOLDER);
  return out;
}

/** A folder's selective sync: config.json `only`, and for the user configuration the kinds opted into. */
export function onlyFor(cfg: FileConfig, id: string): string[] | null {
  return cfg.only?.[id] ?? (id === USER_CONFIG_FOLDER ? userConfigEntries(cfg.userConfig) : null);
}

export function defaultDeviceName(): string {
  return hostname() || 'roam-device';
}

/** `ROAM_GROUP_KEY`: 64 hex characters, the group secret for automation and tests. */
export function groupKeyFromEnv(env: NodeJS.ProcessEnv = process.env): Uint8Array | undefined {
  const v = env.ROAM_GROUP_KEY;
  if (v === undefined || v === '') return undefined;
  if (!/^[0-9a-fA-F]{64}$/.test(v)) throw new RoamError('ROAM_CONFIG', 'ROAM_GROUP_KEY must be 64 hexadecimal characters (32 bytes)');
  return fromHex(v);
}
