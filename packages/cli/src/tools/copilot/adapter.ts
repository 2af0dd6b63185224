/**
 * GitHub Copilot CLI's session adapter (docs/COPILOT.md, measured on `@github/copilot` 1.0.102).
 *
 * Root: `$COPILOT_HOME` (the directory itself, the CLI's `.copilot`), else `~/.copilot`. A session
 * is a directory `session-state/<uuid>/` holding `events.jsonl` (an event log, appended to by
 * prompts, resumes, tool calls and compactions, but replaced by a shorter, re-serialised file on
 * `/rewind`: every line `{type, data, id, timestamp, parentId}`, each event's parentId the id of
 * the one before) and
 * `workspace.yaml` (rewritten by the CLI: id, cwd, name, user_named, summary_count, created_at,
 * updated_at, …), beside `checkpoints/`, `files/`, `research/`, `rewind-file-snapshots/` and
 * sometimes a `session.db`. The transcript roam reads (`SessionInfo.file`) is `events.jsonl`.
 *
 * Events that make the conversation: `user.message` {content, transformedContent}, `assistant.message`
 * {content, toolRequests[{toolCallId, name, arguments}]}, `tool.execution_complete` {toolCallId,
 * success, result.content | error.message}, `session.compaction_complete` {summaryContent}. Events
 * of sub-agents carry `agentId` (or `data.parentToolCallId`) and are not the main conversation.
 * `session.snapshot_rewind` {upToEventId, eventIds?} removes events from the conversation.
 * Titles: a name the user gave (`workspace.yaml` name with user_named: true, or a
 * `session.title_changed` event), else the CLI's own name for it, else the first prompt.
 *
 * Copilot has no project key: it files sessions by id and records the working directory, so, as
 * for Codex, `projectKey(path)` is the path, a session's projectKey the directory it started in,
 * its cwd the last one recorded, and `list({project})` matches either.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { ErrorCodes, RoamError } from '@roam/core/errors';
import { oneLine, withCwd } from '../../sessions/paths.js';
import { snippet } from '../../sessions/scan.js';
import type { SessionInfo, ToolCommand, TranscriptEntry } from '../../sessions/types.js';
import { copilotNotCarried } from './carry.js';
import { BaseAdapter, toolHome, type About, type FoundFile, type LineCheck } from '../common/base.js';
import type { AdapterOptions } from '../types.js';
import { copilotTranscript, parseWorkspaceYaml, readCopilotMeta, type CopilotMeta } from './events.js';

const TITLE_MAX = 200;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export type CopilotAdapterOptions = AdapterOptions;

/** Copilot CLI to the base adapter: its home is `$COPILOT_HOME` (the CLI's `.copilot` itself), else `~/.copilot`. */
export const COPILOT: About = { label: 'Copilot CLI', cacheName: 'sessions-cache-copilot.json', home: (env) => toolHome(env, 'COPILOT_HOME', '.copilot') };

export class CopilotAdapter extends BaseAdapter<FoundFile> {
  readonly tool = 'copilot' as const;
  protected readonly about = COPILOT;

  /** `<root>/session-state`. */
  stateDir(): string {
    return join(this.root(), 'session-state');
  }

  /** Copilot files sessions by id, not by project: a directory is its own key (as for Codex). */
  projectKey(path: string): string {
    return path;
  }

  /** The sessions' event logs, `<root>/session-state/<id>/events.jsonl` (not read). */
  files(): FoundFile[] {
    const state = this.stateDir();
    let names: string[];
    try {
      names = readdirSync(state);
    } catch {
      return [];
    }
    const out: FoundFile[] = [];
    for (const name of names) {
      if (name.startsWith('.')) continue;
      const dir = join(state, name);
      const file = join(dir, 'events.jsonl');
      const st = statSync(file, { throwIfNoEntry: false });
      if (st?.isFile()) out.push({ file, size: st.size, mtimeMs: st.mtimeMs });
    }
    return out;
  }

  /** workspace.yaml of a session directory, parsed ({} when missing or unreadable). */
  workspace(dir: string): Record<string, string> {
    try {
      return parseWorkspaceYaml(readFileSync(join(dir, 'workspace.yaml'), 'utf8'));
    } catch {
      return {};
    }
  }

  protected filesRoot(): string {
    return this.stateDir();
  }

  protected readInfo(f: FoundFile): SessionInfo | null {
    let meta: CopilotMeta;
    try {
      meta = readCopilotMeta(readFileSync(f.file, 'utf8'));
    } catch {
      return null; // vanished since the listing
    }
    const firstPrompt = oneLine(meta.firstPrompt, TITLE_MAX);
    // The CLI resumes a session by its directory's name.
    return this.sessionInfo(f, { ...meta, id: basename(dirname(f.file)), projectKey: meta.startCwd ?? '-', title: oneLine(meta.title, TITLE_MAX) ?? firstPrompt, firstPrompt, messagesExact: true });
  }

  /** Title and directories from workspace.yaml. */
  protected override decorator(): (info: SessionInfo, f: FoundFile) => SessionInfo {
    return (info, f) => withWorkspace(info, this.workspace(dirname(f.file)));
  }

  /** Unused: find opens `session-state/<id>/` itself. */
  protected mayHold(f: FoundFile, id: string): boolean {
    return basename(dirname(f.file)) === id;
  }

  /** The session's directory is its id: no listing needed. */
  override async find(id: string): Promise<SessionInfo | null> {
    if (!id || id.includes('/') || id.startsWith('.')) return null;
    const file = join(this.stateDir(), id, 'events.jsonl');
    const st = statSync(file, { throwIfNoEntry: false });
    if (!st?.isFile()) return null;
    const cache = this.cache();
    const [info] = this.infos([{ file, size: st.size, mtimeMs: st.mtimeMs }], cache);
    cache.save();
    return info ?? null;
  }

  protected override lineCheck(needle: string): LineCheck {
    return (o) => {
      const data = o.data as Record<string, unknown> | undefined;
      if (!data || typeof data.content !== 'string' || typeof o.agentId === 'string' || typeof data.parentToolCallId === 'string') return null;
      const role = o.type === 'user.message' ? 'user' : o.type === 'assistant.message' ? 'assistant' : null;
      if (!role || !data.content.toLowerCase().includes(needle)) return null;
      return { role, snippet: snippet(data.content, needle) };
    };
  }

  protected transcript(info: SessionInfo): TranscriptEntry[] {
    return copilotTranscript(readFileSync(info.file, 'utf8'));
  }

  /** `copilot --resume <id> [-C <cwd>]`: the CLI keeps the recorded cwd where it exists here, unless -C names this one (docs/COPILOT.md). */
  /** What `roam resume` cannot carry here (carry.ts). */
  notCarried(_session: SessionInfo, _dir: string): string[] {
    return copilotNotCarried();
  }

  resumeCommand(id: string, opts: { cwd?: string } = {}): ToolCommand {
    return withCwd(['copilot', '--resume', id, ...(opts.cwd ? ['-C', opts.cwd] : [])], opts.cwd);
  }

  /**
   * Copilot CLI 1.0.102 forks only inside a session (`/fork`, alias `/branch`); it has no option to
   * fork from the command line (`copilot --help`).
   */
  forkCommand(id: string, _opts: { cwd?: string } = {}): ToolCommand {
    throw new RoamError(ErrorCodes.USAGE, `copilot cannot fork a session from the command line: run \`copilot --resume ${id}\` and type /fork`, { tool: 'copilot', id });
  }

  /** `copilot --name <name>` ("Set a name for the new session"). */
  newCommand(name: string, opts: { cwd?: string } = {}): ToolCommand {
    return withCwd(['copilot', '--name', name], opts.cwd);
  }
}

/** A session's info with what workspace.yaml says: a user-given name (or the CLI's own) as the title, its cwd. */
function withWorkspace(info: SessionInfo, ws: Record<string, string>): SessionInfo {
  let title = info.title;
  const name = ws.name?.trim() ? ws.name : null;
  const summary = ws.summary?.trim() ? ws.summary : null;
  // A name the user gave wins over everything; a title from the events over the CLI's own name.
  if (name && ws.user_named === 'true') title = oneLine(name, TITLE_MAX);
  else if (title === info.firstPrompt) title = oneLine(name ?? summary, TITLE_MAX) ?? title;
  const projectKey = info.projectKey === '-' && ws.cwd ? ws.cwd : info.projectKey;
  const cwd = info.cwd ?? ws.cwd ?? null;
  return title === info.title && projectKey === info.projectKey && cwd === info.cwd ? info : { ...info, title, projectKey, cwd };
}

/** Whether `s` is shaped like the ids the CLI gives its sessions. */
export function isCopilotId(s: string): boolean {
  return UUID.test(s);
}
