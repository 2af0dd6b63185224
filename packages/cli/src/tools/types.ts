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

/**
 * A file of the tool's that every device appends to (its prompt history): synced as a union log
 * (docs/PROTOCOL.md, "Union logs"), one line log per device in roam's state, the file a view.
 */
export interface UnionLogSpec {
  /** roam's folder id of its per-device logs (`claude-history`). */
  readonly id: string;
  /** Its name in messages. */
  readonly label: string;
  /** The file on this device, with the tool's own environment override. */
  file(env: NodeJS.ProcessEnv): string;
  /** One line (no newline) with every path in it passed through `map`; the line as it is when none. */
  mapLine(line: string, map: (path: string) => string): string;
}

/**
 * A folder of a tool's per-session state beside its transcripts (Claude Code's `file-history/`,
 * `tasks/`, …): synced by roamd under its own folder id, whole files, removed with its session.
 */
export interface StateFolder {
  /** roam's folder id (`claude-file-history`): never a tool's name. */
  readonly id: string;
  /** What the tool calls it (`file-history`). */
  readonly kind: string;
  /** Where it is on this device. */
  readonly path: string;
  /** The session item `name` (relative to the folder) belongs to, when its name says so. */
  sessionOf(name: string): string | null;
  /** Whether item `name` is session `session`'s; `transcript` is its transcript here, when there is one. */
  owns(name: string, session: string, transcript: string | null): boolean;
}

/**
 * What roam does with a tool (`roam tools`): `sync` its sessions between devices (roamd's folder),
 * `resume` them with the tool's own CLI, `capture` a store it only reads (list, search, show,
 * export, share; no resume in the tool itself), `convert-from` it into another tool
 * (`roam resume --in`), `convert-to` it from another tool, `share`: `roam import` takes bundles of
 * its sessions (`roam share` bundles any tool's).
 */
export type ToolCapability = 'sync' | 'resume' | 'capture' | 'convert-from' | 'convert-to' | 'share';

/** A tool's entry in `roam tools` (and the README's table), declared in its folder's index.ts. */
export interface ToolAbout {
  /** The version of the tool whose files and CLI roam was measured against (docs/tools/<tool>.md). */
  readonly measured: string;
  /** What roam does with it. */
  readonly does: readonly ToolCapability[];
  /** Where its measured facts are written, from the repository's root. */
  readonly doc: string;
}

export interface Tool<A extends SessionAdapter = SessionAdapter> {
  /** The name the CLI takes (`--tool`, `--in`), and roam's folder id of its sessions. */
  readonly name: string;
  /** Its name in messages ("Claude Code"). */
  readonly label: string;
  /**
   * The folder roam syncs: where the tool keeps its sessions on this device, with the tool's own
   * environment override (CLAUDE_CONFIG_DIR, …), whether it exists or not. Absent: the tool has
   * no store of its own to sync (Aider: its history is a file of the project).
   */
  sessionsDir?(env: NodeJS.ProcessEnv): string;
  /** The version measured and what roam does with it (`roam tools`). */
  readonly about: ToolAbout;
  /**
   * A tool whose store is a database: appends what changed in it to the roam-owned logs in
   * `sessionsDir` (roamd calls it every second; the database is only read). Returns what it did.
   */
  mirror?(env: NodeJS.ProcessEnv): string[];
  /** How to install its command, for the error when it is not on PATH (sessions/exec.ts). */
  readonly install?: string;
  /** Its per-session state folders beside the sessions (absent: none). */
  stateFolders?(env: NodeJS.ProcessEnv): StateFolder[];
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
  /** Its files every device appends to, synced as union logs (folder ids of their own). */
  readonly unionLogs?: readonly UnionLogSpec[];
}
