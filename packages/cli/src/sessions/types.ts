/**
 * The session layer's contract (DESIGN §2: "session knowledge is at the edge"). The engine only
 * replicates bytes; everything that knows what a tool's session file means (where the files live,
 * their titles, how to search and print them, which command resumes one) is an adapter of this
 * interface, one per tool, in the tool's folder (tools/<tool>/adapter.ts), listed in tools/registry.ts.
 */

/** A tool's name as the registry lists it (tools/registry.ts: claude, codex, gemini, copilot, …). */
export type ToolName = string;

export interface SessionInfo {
  readonly tool: ToolName;
  /** The id the tool resumes it by. */
  readonly id: string;
  /** The transcript file, absolute. */
  readonly file: string;
  /** The project the tool filed it under (Claude Code: the key directory's name). */
  readonly projectKey: string;
  /** The last working directory recorded in the session, or null. */
  readonly cwd: string | null;
  /** custom title > AI title > summary > first prompt, whitespace collapsed, at most 200 chars. */
  readonly title: string | null;
  /** The first thing the user typed (a slash command as `/name args`), whitespace collapsed, at most 200 chars. */
  readonly firstPrompt: string | null;
  /** ISO time of the last timestamp in the file, else of its mtime. */
  readonly lastActivity: string;
  /** User + assistant lines of the main conversation (side chains not counted). */
  readonly messages: number;
  /** False when `messages` is an estimate: a large file, counted on a bounded read and scaled by size. */
  readonly messagesExact: boolean;
  /** The last git branch recorded, or null. */
  readonly gitBranch: string | null;
  /** The file's size in bytes. */
  readonly bytes: number;
  readonly mtimeMs: number;
}

/** A session as `roam list --json` prints it: its JSON (an element of the array), and what the list is sorted by. */
export interface ListedJson {
  readonly lastActivity: string;
  readonly mtimeMs: number;
  /**
   * JSON.stringify(info, null, 2) indented by two spaces (see listJson in cache.ts): a string, or
   * UTF-8 bytes [start, end) of a buffer (default: all of it).
   */
  readonly json: string | Uint8Array;
  readonly start?: number;
  readonly end?: number;
}

export interface ListOptions {
  /** Only the sessions of this project directory (an absolute, real path); without it, every project. */
  readonly project?: string;
  /** At most this many (newest first). */
  readonly limit?: number;
}

export interface SearchOptions {
  /** Only this project directory (absolute, real path); without it, every project. */
  readonly project?: string;
  /** Stop after this many hits (sessions are scanned newest first). */
  readonly limit?: number;
  /** Files read at the same time (default 8). */
  readonly concurrency?: number;
}

export interface SearchHit {
  readonly session: SessionInfo;
  /** 1-based line number of the matching line in `session.file`. */
  readonly line: number;
  /** What matched: a user or assistant message, or a title line. */
  readonly role: 'user' | 'assistant' | 'title';
  /** About 120 characters around the first match in that line, whitespace collapsed. */
  readonly snippet: string;
}

export interface ToolUse {
  readonly id: string | null;
  readonly name: string;
  readonly input: unknown;
}

export interface ToolResult {
  readonly toolUseId: string | null;
  readonly text: string;
  readonly isError: boolean;
}

/** One line of the conversation as the tool would replay it. */
export interface TranscriptEntry {
  readonly role: 'user' | 'assistant';
  readonly uuid: string | null;
  readonly timestamp: string | null;
  /** The text blocks, joined by blank lines ('' when the line holds only tool calls or results). */
  readonly text: string;
  readonly toolUses: readonly ToolUse[];
  readonly toolResults: readonly ToolResult[];
  /** A line the tool sends to the model but does not show (Claude Code's `isMeta`). */
  readonly meta?: boolean;
}

/** A sub-agent's own conversation (Claude Code's `<id>/subagents/agent-<agentId>.jsonl`). */
export interface SubAgent {
  readonly id: string;
  readonly description: string | null;
  readonly entries: readonly TranscriptEntry[];
}

/** A command to run for the user: argv[0] is the tool's name, looked up on PATH by `runTool`. */
export interface ToolCommand {
  readonly argv: string[];
  /** Where to run it; absent: the current directory. */
  readonly cwd?: string;
}

export interface SessionAdapter {
  readonly tool: ToolName;
  /** The tool's home (Claude Code: `$CLAUDE_CONFIG_DIR` or `~/.claude`). */
  root(env?: NodeJS.ProcessEnv): string;
  /** Sessions, newest first (by lastActivity). */
  list(opts?: ListOptions): Promise<SessionInfo[]>;
  /**
   * Optional, for `roam list --json`: what it prints of each session of list(opts), without making the
   * SessionInfo objects (Claude Code: the cached bytes as they are); in list's order, or in the order
   * list sorts from (the caller sorts them as list does, stably).
   */
  listJson?(opts?: ListOptions): Promise<ListedJson[]>;
  /** Case-insensitive substring search over user and assistant text and titles. */
  search(text: string, opts?: SearchOptions): Promise<SearchHit[]>;
  /** The session with exactly this id, or null. */
  find(id: string): Promise<SessionInfo | null>;
  /** The conversation: from the root to the current leaf. Throws ROAM_SESSION_NOT_FOUND. */
  show(id: string): Promise<TranscriptEntry[]>;
  /** Resume a session in the tool (cwd: where to run it, e.g. the session's own directory). */
  resumeCommand(id: string, opts?: { cwd?: string }): ToolCommand;
  /** The tool's own fork: a new session id holding the conversation so far; the original is untouched. */
  forkCommand(id: string, opts?: { cwd?: string }): ToolCommand;
  /** Start a new session with a display name. */
  newCommand(name: string, opts?: { cwd?: string }): ToolCommand;
  /** The tool's project key of a directory (an absolute path as the tool sees it). */
  projectKey(path: string): string;
  /**
   * Optional: what the tool needs before it can resume `session` in `dir` (Gemini CLI: the directory
   * registered under the session's project slug). Returns what it did, one line each.
   */
  prepareResume?(session: SessionInfo, dir: string): Promise<string[]>;
  /**
   * Optional: what the tool needs right before `roam resume` runs it on `session` here, which roamd
   * must not do when a session arrives (a change it would carry back to the other devices: the Cline
   * CLI's metadata naming this device's copy). Returns what it did, one line each.
   */
  beforeRun?(session: SessionInfo): Promise<string[]>;
  /**
   * Optional, for a tool that resumes a session only in the directory it recorded (Qwen Code): when
   * `dir` is another, the session to resume there instead, a new one holding the conversation (written
   * unless `dryRun`; the original untouched), with what was done, one line each. Null: resume `session` as it is.
   */
  continueIn?(session: SessionInfo, dir: string, opts?: { dryRun?: boolean }): Promise<{ session: SessionInfo; lines: string[] } | null>;
  /** Optional: what could not be carried to this machine for resuming `session` in `dir`, one line each (sessions/carry.ts). */
  notCarried?(session: SessionInfo, dir: string): string[];
  /** Optional: the processes of this machine that have session `id` open (Claude Code: its registry of live sessions). */
  openHere?(id: string): Array<{ readonly pid: number }>;
  /** Optional, for `roam share`: the transcript's bytes when they are not the file as it is (Codex: `.zst`). */
  readTranscript?(session: SessionInfo): Buffer;
  /** The session's sub-agents' conversations (tools that keep them apart), for `roam ui`. */
  subagents?(session: SessionInfo): SubAgent[];
}
