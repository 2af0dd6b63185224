/**
 * The conversation between two tools' formats: what a source reader (claude-source.ts,
 * codex-source.ts) produces and a target writer (to-claude.ts, to-codex.ts) consumes.
 *
 * Items are in the order the model saw them: texts of the user and of the assistant, the
 * assistant's tool calls, and the tools' outputs (matched to their call by id). A shell command is
 * recognised as such on reading (`shell`), because both tools have a shell tool (Claude Code's
 * `Bash`, Codex's `exec_command`/`shell`): that is the one tool call carried as a tool call; every
 * other one becomes a text note in the assistant's message (tools.ts).
 *
 * What a reader or a writer cannot carry is counted in `Notes`, reported as `dropped[]`.
 */
import type { ToolName } from '../sessions/types.js';

export interface TextItem {
  readonly type: 'text';
  readonly role: 'user' | 'assistant';
  readonly text: string;
  /** Sent to the model but not shown to the user (Claude Code's isMeta lines, compaction summaries). */
  readonly meta?: boolean;
  readonly ts: string | null;
}

export interface ShellCommand {
  /** The command line, as a shell would read it. */
  readonly command: string;
}

export interface CallItem {
  readonly type: 'call';
  /** The call's id in the source (tool_use id, call_id). */
  readonly id: string;
  /** The tool's name in the source. */
  readonly name: string;
  /** Its input as the source recorded it (parsed JSON, or a string). */
  readonly input: unknown;
  /** Set when the call runs a shell command: carried as the target's own shell tool. */
  readonly shell: ShellCommand | null;
  readonly ts: string | null;
}

export interface ResultItem {
  readonly type: 'result';
  /** The id of the call it answers. */
  readonly id: string;
  readonly text: string;
  readonly isError: boolean;
  readonly ts: string | null;
}

export type Item = TextItem | CallItem | ResultItem;

export interface Conversation {
  readonly tool: ToolName;
  readonly id: string;
  readonly items: Item[];
  /** The first timestamp of the session, or null. */
  readonly started: string | null;
  /** The model that wrote the assistant's messages, when recorded. */
  readonly model: string | null;
  readonly gitBranch: string | null;
}

/** One kind of thing not carried over (or carried in another form), for `dropped[]`. */
export interface Dropped {
  readonly kind: string;
  readonly count: number;
  /** What it is and what became of it, in a sentence. */
  readonly detail: string;
}

/** Counts what was dropped, by kind; tool calls carried as text are counted by tool name too. */
export class Notes {
  private readonly kinds = new Map<string, { count: number; detail: string; names: Map<string, number> }>();

  add(kind: string, detail: string, n = 1, name?: string): void {
    if (n <= 0) return;
    let k = this.kinds.get(kind);
    if (!k) this.kinds.set(kind, (k = { count: 0, detail, names: new Map() }));
    k.count += n;
    if (name !== undefined) k.names.set(name, (k.names.get(name) ?? 0) + n);
  }

  count(kind: string): number {
    return this.kinds.get(kind)?.count ?? 0;
  }

  list(): Dropped[] {
    return [...this.kinds].map(([kind, k]) => {
      const names = [...k.names].map(([n, c]) => `${n} ×${c}`).join(', ');
      return { kind, count: k.count, detail: names ? `${k.detail} (${names})` : k.detail };
    });
  }
}

/** A converted text stands where an image (or document) was. */
export const IMAGE_PLACEHOLDER = '[image not carried over by roam]';

/** The tools' names in the notes a conversion writes. */
export const TOOL_LABEL: Record<ToolName, string> = { claude: 'Claude Code', codex: 'Codex', gemini: 'Gemini CLI', copilot: 'Copilot CLI', qwen: 'Qwen Code', cline: 'Cline', 'cline-cli': 'Cline CLI', continue: 'Continue CLI', roo: 'Roo Code', kilocode: 'Kilo Code', aider: 'Aider', opencode: 'OpenCode', kilo: 'Kilo CLI', crush: 'Crush', cursor: 'Cursor' };
