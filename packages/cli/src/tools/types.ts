/**
 * What roam knows about one tool, as its folder (tools/<tool>/index.ts) hands it to the registry
 * (registry.ts): where its sessions live, its session adapter, how roamd tells which session a
 * changed file is, its conversion format, and how a shared bundle of its sessions is written here.
 * The verbs, convert/, share/, the daemon's folders and activity read tools only through the
 * registry, never through a tool's own modules.
 */
import type { Format } from '../convert/format.js';
import type { Bundle, BundlePart } from '../share/bundle.js';
import type { ImportPlan } from '../share/importer.js';
import type { ReadFn } from '../sessions/lines.js';
import type { SessionAdapter, SessionInfo } from '../sessions/types.js';

/** What every tool's adapter is made from. */
export interface AdapterOptions {
  /** HOME, the tool's own variables and ROAM_HOME come from here (default: process.env). */
  readonly env?: NodeJS.ProcessEnv;
  /**
   * The metadata cache file (Claude Code's; each other tool keeps its own beside it, at
   * `<file>.<tool>`); null for none; absent: each tool's default under roam's state directory.
   */
  readonly cacheFile?: string | null;
  /** Reads of metadata go through this (tests count bytes; Claude Code). */
  readonly read?: ReadFn;
  /** Limits of the metadata reader (tests; Claude Code). */
  readonly meta?: { readonly exactLimit?: number; readonly window?: number };
}

/** The session a file of a tool's folder belongs to (roamd's activity, daemon/activity.ts). */
export interface ItemSession {
  readonly tool: string;
  readonly session: string;
  /** The project the tool files it under, where it has one (Claude Code: the wire project name). */
  readonly project: string | null;
}

export interface Tool<A extends SessionAdapter = SessionAdapter> {
  /** The name the CLI takes (`--tool`, `--in`), and roam's folder id of its sessions. */
  readonly name: string;
  /** Its name in messages ("Claude Code"). */
  readonly label: string;
  /**
   * The folder roam syncs: where the tool keeps its sessions on this device, with the tool's own
   * environment override (CLAUDE_CONFIG_DIR, …), whether it exists or not.
   */
  sessionsDir(env: NodeJS.ProcessEnv): string;
  /** The version of the tool roam's facts about it were measured on (docs/tools/<tool>.md). */
  readonly version?: string;
  /** What roam does with it: sync (its sessions travel), resume, convert (to and from), capture (read-only). */
  readonly capabilities?: ReadonlyArray<'sync' | 'resume' | 'convert' | 'capture'>;
  /**
   * A tool whose store is a database: appends what changed in it to the roam-owned logs in
   * `sessionsDir` (roamd calls it every second; the database is only read). Returns what it did.
   */
  mirror?(env: NodeJS.ProcessEnv): string[];
  /** How to install its command, for the error when it is not on PATH (sessions/exec.ts). */
  readonly install?: string;
  /** Its session adapter (list, search, show, resume, fork, new). */
  adapter(opts: AdapterOptions): A;
  /**
   * Which session `name` (a path relative to the folder's root `root`) is the log of, or null for
   * any other file (roamd leases a session while its log grows). `headId` reads a file's first
   * line's `sessionId` (remembered per file).
   */
  sessionOfItem(name: string, root: string, headId: (file: string) => string | null): ItemSession | null;
  /**
   * Its folder's top-level entries are projects named by a path (Claude Code's project keys), which
   * roamd names on the wire for every device and `roam map` places here (machine/project-names.ts):
   * the verbs show and take those names as paths, and a session's directory is where the map puts it.
   */
  readonly wireProjects?: boolean;
  /** How to read a session into the conversation of convert/ir.ts and write one (absent: not converted). */
  readonly format?: Format<A>;
  /** `roam import`: where a bundle of this tool's session goes here (absent: not imported). */
  importPlan?(bundle: Bundle, adapter: A, cwd: string, newId: () => string): Promise<ImportPlan>;
  /**
   * `roam share`: what a bundle holds of a session besides its transcript: files (taken when they
   * are regular files) and folders (their regular files, walked), by their names in the bundle
   * (share/bundle.ts's BUNDLE_TOP_FILES and BUNDLE_FOLDERS).
   */
  bundleParts?(session: SessionInfo): BundlePart[];
}
