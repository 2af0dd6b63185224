/**
 * The task folders of Cline and its forks (Roo Code, Kilo Code), VS Code extensions whose store
 * roam captures (reads, never writes): `<VS Code user dir>/globalStorage/<extension id>/tasks/<task
 * id>/` holding `api_conversation_history.json` (the conversation as the extension sends it to the
 * model: a JSON array of Anthropic messages `{role, content: string | blocks, ts?}`), beside
 * `ui_messages.json` (what its panel shows: `{ts, type: "say"|"ask", say|ask, text}`) and
 * `task_metadata.json`. The file names and shapes are those the extensions' public sources write
 * (docs/tools/cline.md); the VS Code user directory is `~/.config/Code/User` on Linux (or
 * `$XDG_CONFIG_HOME/Code/User`), `~/Library/Application Support/Code/User` on macOS,
 * `%APPDATA%\Code\User` on Windows, or `$ROAM_VSCODE_USER_DIR`.
 *
 * Each tool's folder (tools/cline, tools/roo, tools/kilocode) makes one TaskAdapter with its
 * extension id. Reading for conversion: user texts without the `<task>` wrapper, the extension's
 * `<environment_details>` blocks left out (its own context, like the other tools' context blocks),
 * assistant texts, `tool_use` blocks as calls (`execute_command {command}` as the shell) and
 * `tool_result` blocks as their outputs.
 */
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { ErrorCodes, RoamError } from '@roam/core/errors';
import { IMAGE_PLACEHOLDER, Notes, type Conversation, type Item } from '../../convert/ir.js';
import { oneLine } from '../../sessions/paths.js';
import type { SearchHit, SearchOptions, SessionInfo, ToolCommand, ToolResult, ToolUse, TranscriptEntry } from '../../sessions/types.js';
import { BaseAdapter, besideCache, messageHits, type About, type FoundFile } from './base.js';
import { filesIn } from './files.js';
import type { AdapterOptions, Tool, ToolAbout } from '../types.js';

export const API_HISTORY = 'api_conversation_history.json';
const UI_MESSAGES = 'ui_messages.json';
const TITLE_MAX = 200;

type Obj = Record<string, unknown>;

function isObj(v: unknown): v is Obj {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** VS Code's user directory on this machine (see above). */
export function vscodeUserDir(env: NodeJS.ProcessEnv): string {
  if (env.ROAM_VSCODE_USER_DIR) return env.ROAM_VSCODE_USER_DIR;
  const home = env.HOME || homedir();
  if (process.platform === 'darwin') return join(home, 'Library', 'Application Support', 'Code', 'User');
  if (process.platform === 'win32') return join(env.APPDATA || join(home, 'AppData', 'Roaming'), 'Code', 'User');
  return join(env.XDG_CONFIG_HOME || join(home, '.config'), 'Code', 'User');
}

/** One extension: its id under globalStorage, and how roam names it. */
export interface Extension {
  readonly tool: string;
  readonly label: string;
  /** `saoudrizwan.claude-dev`, `rooveterinaryinc.roo-cline`, `kilocode.kilo-code`. */
  readonly id: string;
}

/** The folder of an extension's tasks on this machine. */
export function tasksDir(ext: Extension, env: NodeJS.ProcessEnv): string {
  return join(vscodeUserDir(env), 'globalStorage', ext.id, 'tasks');
}

/** A message of the api history. */
export interface TaskMessage {
  readonly role: 'user' | 'assistant';
  readonly blocks: readonly Obj[];
  readonly ts: string | null;
}

/** The api history's messages (null: not a JSON array). */
export function parseTask(text: string): TaskMessage[] | null {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    return null;
  }
  if (!Array.isArray(v)) return null;
  const out: TaskMessage[] = [];
  for (const m of v) {
    if (!isObj(m) || (m.role !== 'user' && m.role !== 'assistant')) continue;
    const blocks = typeof m.content === 'string' ? [{ type: 'text', text: m.content }] : Array.isArray(m.content) ? m.content.filter(isObj) : [];
    out.push({ role: m.role, blocks, ts: typeof m.ts === 'number' && Number.isFinite(m.ts) ? new Date(m.ts).toISOString() : null });
  }
  return out;
}

const ENV_DETAILS = /^\s*<environment_details>[\s\S]*<\/environment_details>\s*$/;
const TASK = /^\s*<task>\n?([\s\S]*?)\n?<\/task>\s*$/;
const CWD = /# Current (?:Working Directory|Workspace Directory) \(([^)\n]+)\)/;

/** A user text block as typed: the `<task>` wrapper taken off; null for the extension's environment details. */
export function userText(text: string): string | null {
  if (ENV_DETAILS.test(text)) return null;
  const m = TASK.exec(text);
  return m ? m[1]! : text;
}

export function textOf(blocks: readonly Obj[], role: 'user' | 'assistant'): string {
  const parts: string[] = [];
  for (const b of blocks) {
    if (b.type !== 'text' || typeof b.text !== 'string') continue;
    const t = role === 'user' ? userText(b.text) : b.text;
    if (t !== null && t.trim()) parts.push(t);
  }
  return parts.join('\n\n');
}

/** The working directory the extension reported in its first environment details, or null. */
export function taskCwd(msgs: readonly TaskMessage[]): string | null {
  for (const m of msgs) {
    if (m.role !== 'user') continue;
    for (const b of m.blocks) if (typeof b.text === 'string') {
      const c = CWD.exec(b.text);
      if (c) return c[1]!.trim();
    }
  }
  return null;
}

function resultText(content: unknown): string {
  if (typeof content === 'string') return content;
  if (Array.isArray(content)) return content.filter(isObj).map((b) => (typeof b.text === 'string' ? b.text : '')).join('\n');
  return '';
}

/** The conversation as `roam show` prints it. */
export function taskTranscript(msgs: readonly TaskMessage[]): TranscriptEntry[] {
  return msgs.map((m) => {
    const toolUses: ToolUse[] = [];
    const toolResults: ToolResult[] = [];
    for (const b of m.blocks) {
      if (b.type === 'tool_use') toolUses.push({ id: typeof b.id === 'string' ? b.id : null, name: typeof b.name === 'string' ? b.name : '?', input: b.input ?? null });
      if (b.type === 'tool_result') toolResults.push({ toolUseId: typeof b.tool_use_id === 'string' ? b.tool_use_id : null, text: resultText(b.content), isError: b.is_error === true });
    }
    return { role: m.role, uuid: null, timestamp: m.ts, text: textOf(m.blocks, m.role), toolUses, toolResults };
  });
}

/** The conversation of a task's api history, for `roam resume --in` (convert/ir.ts). */
export function fromTask(tool: string, text: string, id: string, notes: Notes): Conversation {
  const msgs = parseTask(text) ?? [];
  const items: Item[] = [];
  let n = 0;
  for (const m of msgs) {
    let buf = '';
    const flush = (): void => {
      if (buf.trim()) items.push({ type: 'text', role: m.role, text: buf, ts: m.ts });
      buf = '';
    };
    for (const b of m.blocks) {
      if (b.type === 'text' && typeof b.text === 'string') {
        const t = m.role === 'user' ? userText(b.text) : b.text;
        if (t === null) notes.add('context', "the extension's <environment_details> (open files, working directory, time; the target adds its own)");
        else if (t.trim()) buf += buf ? `\n\n${t}` : t;
      } else if (b.type === 'image') {
        notes.add('image', 'images in messages: a text placeholder stands where each was');
        buf += IMAGE_PLACEHOLDER;
      } else if (b.type === 'tool_use') {
        flush();
        const name = typeof b.name === 'string' ? b.name : '?';
        const input = b.input ?? null;
        const command = name === 'execute_command' && isObj(input) && typeof input.command === 'string' ? input.command : null;
        items.push({ type: 'call', id: typeof b.id === 'string' ? b.id : `task_call_${++n}`, name, input, shell: command === null ? null : { command }, ts: m.ts });
      } else if (b.type === 'tool_result') {
        flush();
        items.push({ type: 'result', id: typeof b.tool_use_id === 'string' ? b.tool_use_id : `task_call_${n}`, text: resultText(b.content), isError: b.is_error === true, ts: m.ts });
      } else if (b.type === 'thinking' || b.type === 'reasoning') notes.add('thoughts', "the model's reasoning: not carried");
    }
    flush();
  }
  return { tool, id, items, started: items.find((i) => i.ts)?.ts ?? null, model: null, gitBranch: null };
}

export interface TaskFile extends FoundFile {
  readonly id: string;
}

/** The session adapter of one extension's tasks: list, search, show; resumed only in another tool. */
export class TaskAdapter extends BaseAdapter<TaskFile> {
  readonly tool: string;
  protected readonly about: About;

  constructor(private readonly ext: Extension, opts: AdapterOptions) {
    super(besideCache(opts, ext.tool));
    this.tool = ext.tool;
    this.about = { label: ext.label, cacheName: `sessions-cache-${ext.tool}.json`, home: (env) => join(vscodeUserDir(env), 'globalStorage', ext.id) };
  }

  /** A task has no project key: its directory as it reported it. */
  projectKey(path: string): string {
    return path;
  }

  files(): TaskFile[] {
    const dir = join(this.root(), 'tasks');
    return filesIn(dir, (id) => (id.startsWith('.') ? null : { file: join(dir, id, API_HISTORY), extra: { id } }));
  }

  protected filesRoot(): string {
    return join(this.root(), 'tasks');
  }

  private read(file: string): TaskMessage[] | null {
    try {
      return parseTask(readFileSync(file, 'utf8'));
    } catch {
      return null;
    }
  }

  protected readInfo(f: TaskFile): SessionInfo | null {
    const msgs = this.read(f.file);
    if (!msgs?.length) return null;
    const first = msgs.find((m) => m.role === 'user');
    const firstPrompt = oneLine(first ? textOf(first.blocks, 'user') : null, TITLE_MAX);
    const messages = msgs.filter((m) => textOf(m.blocks, m.role).trim()).length;
    let last = [...msgs].reverse().find((m) => m.ts)?.ts ?? null;
    if (!last) last = this.lastUiTs(f);
    const cwd = taskCwd(msgs);
    return this.sessionInfo(f, { id: f.id, projectKey: cwd ?? '-', cwd, title: firstPrompt, firstPrompt, lastTimestamp: last, messages, messagesExact: true, gitBranch: null });
  }

  /** The last `ts` of ui_messages.json (Cline's api history carries none). */
  private lastUiTs(f: TaskFile): string | null {
    try {
      const ui = JSON.parse(readFileSync(join(this.root(), 'tasks', f.id, UI_MESSAGES), 'utf8')) as unknown;
      if (!Array.isArray(ui)) return null;
      const ts = ui.filter(isObj).map((m) => m.ts).filter((t): t is number => typeof t === 'number');
      return ts.length ? new Date(Math.max(...ts)).toISOString() : null;
    } catch {
      return null;
    }
  }

  protected mayHold(f: TaskFile, id: string): boolean {
    return f.id === id;
  }


  override async search(text: string, opts: SearchOptions = {}): Promise<SearchHit[]> {
    return this.searchParsed(text, opts, (raw, session, needle, limit) => messageHits(session, (parseTask(raw) ?? []).map((m) => ({ role: m.role, text: textOf(m.blocks, m.role) })), needle, limit));
  }

  protected transcript(info: SessionInfo): TranscriptEntry[] {
    const msgs = this.read(info.file);
    if (!msgs) throw new RoamError(ErrorCodes.SESSION_UNREADABLE, `${info.file} is not a ${this.ext.label} task`, { file: info.file });
    return taskTranscript(msgs);
  }

  private captured(id: string, what: string): never {
    throw new RoamError(ErrorCodes.USAGE, `${this.ext.label} runs inside VS Code, so roam only reads its tasks and cannot ${what} there; \`roam resume ${id} --in claude\` (or codex, gemini, copilot, qwen) continues it in another tool`, { id, tool: this.tool });
  }

  resumeCommand(id: string): ToolCommand {
    return this.captured(id, 'resume one');
  }

  forkCommand(id: string): ToolCommand {
    return this.captured(id, 'fork one');
  }

  newCommand(name: string): ToolCommand {
    return this.captured(name, 'start one');
  }
}

/** `<task id>/api_conversation_history.json`. */
const TASK_LOG = /^([^/]+)\/api_conversation_history\.json$/;

/**
 * The registry's entry of one extension (its folder's index.ts): roamd syncs its `tasks` folder
 * (whole files: the extension rewrites them), roam lists, searches, shows, exports and shares its
 * tasks and converts them into the other tools; it writes none.
 */
export function taskTool(ext: Extension, about: ToolAbout): Tool<TaskAdapter> {
  return {
    name: ext.tool,
    label: ext.label,
    about,
    sessionsDir: (env) => tasksDir(ext, env),
    adapter: (opts) => new TaskAdapter(ext, opts),
    sessionOfItem(name) {
      const m = TASK_LOG.exec(name);
      return m ? { tool: ext.tool, session: m[1]!, project: null } : null;
    },
    format: {
      read: (text, id, notes) => fromTask(ext.tool, text, id, notes),
      write: () => {
        throw new RoamError(ErrorCodes.USAGE, `${ext.label} is captured only: roam reads its tasks but does not write them (it runs inside VS Code)`, { tool: ext.tool });
      },
      transcriptPath: (target) => join(target.root(), 'tasks'),
    },
  };
}
