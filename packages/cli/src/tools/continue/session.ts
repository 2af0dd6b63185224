/**
 * The Continue CLI's session files (`@continuedev/cli` 1.5.47 on npm, docs/tools/continue.md):
 * `$CONTINUE_GLOBAL_DIR/sessions/<uuid>.json` (else `~/.continue/sessions`), one JSON document
 * rewritten whole on every turn: `{sessionId, title, workspaceDirectory, history: [{message: {role,
 * content, toolCalls?}, contextItems, toolCallStates?}], usage}`; `content` is a string or an array
 * of `{type: "text", text}` parts; a tool call's output is in its `toolCallStates[].output[].content`.
 * Beside them, `sessions.json` lists the sessions (roam does not need it).
 */
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Conversation, Item, Notes } from '../../convert/ir.js';
import type { TranscriptEntry, ToolResult, ToolUse } from '../../sessions/types.js';

type Obj = Record<string, unknown>;

function isObj(v: unknown): v is Obj {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** `$CONTINUE_GLOBAL_DIR` (relative: to the current directory, as the CLI does), else `~/.continue`. */
export function continueHome(env: NodeJS.ProcessEnv): string {
  const dir = env.CONTINUE_GLOBAL_DIR;
  return dir ? resolve(dir) : join(env.HOME || homedir(), '.continue');
}

export const CONTINUE_SESSION_NAME = /^([0-9a-fA-F-]{36})\.json$/;

export interface ContinueCall { readonly id: string; readonly name: string; readonly args: unknown; readonly output: string | null }
export interface ContinueMessage { readonly role: 'user' | 'assistant'; readonly text: string; readonly calls: readonly ContinueCall[] }
export interface ContinueSession {
  readonly sessionId: string;
  readonly title: string | null;
  readonly cwd: string | null;
  readonly messages: readonly ContinueMessage[];
}

function contentText(c: unknown): string {
  if (typeof c === 'string') return c;
  if (Array.isArray(c)) return c.filter(isObj).map((p) => (p.type === 'text' && typeof p.text === 'string' ? p.text : '')).join('');
  return '';
}

function parseArgs(a: unknown): unknown {
  if (typeof a !== 'string') return a ?? null;
  try {
    return JSON.parse(a) as unknown;
  } catch {
    return a;
  }
}

/** A session file's text parsed (null: not one). */
export function parseContinueSession(text: string): ContinueSession | null {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    return null;
  }
  if (!isObj(v) || typeof v.sessionId !== 'string' || !Array.isArray(v.history)) return null;
  const messages: ContinueMessage[] = [];
  for (const h of v.history) {
    if (!isObj(h) || !isObj(h.message)) continue;
    const m = h.message;
    if (m.role !== 'user' && m.role !== 'assistant') continue;
    const states = Array.isArray(h.toolCallStates) ? h.toolCallStates.filter(isObj) : [];
    const calls: ContinueCall[] = (Array.isArray(m.toolCalls) ? m.toolCalls.filter(isObj) : []).map((c, i) => {
      const f = isObj(c.function) ? c.function : {};
      const id = typeof c.id === 'string' ? c.id : `continue_call_${i + 1}`;
      const st = states.find((s) => s.toolCallId === id);
      const out = st && Array.isArray(st.output) ? st.output.filter(isObj).map((o) => (typeof o.content === 'string' ? o.content : '')).join('\n') : null;
      return { id, name: typeof f.name === 'string' ? f.name : '?', args: parseArgs(f.arguments), output: out };
    });
    messages.push({ role: m.role, text: contentText(m.content), calls });
  }
  const title = typeof v.title === 'string' && v.title && v.title !== 'Untitled Session' ? v.title : null;
  return { sessionId: v.sessionId, title, cwd: typeof v.workspaceDirectory === 'string' ? v.workspaceDirectory : null, messages };
}

/** The conversation as `roam show` prints it. */
export function continueTranscript(s: ContinueSession): TranscriptEntry[] {
  return s.messages.map((m) => {
    const toolUses: ToolUse[] = m.calls.map((c) => ({ id: c.id, name: c.name, input: c.args }));
    const toolResults: ToolResult[] = m.calls.filter((c) => c.output !== null).map((c) => ({ toolUseId: c.id, text: c.output!, isError: false }));
    return { role: m.role, uuid: null, timestamp: null, text: m.text, toolUses, toolResults };
  });
}

/** The conversation for `roam resume --in` (convert/ir.ts): texts, calls and their outputs. */
export function fromContinue(text: string, id: string, _notes: Notes): Conversation {
  const s = parseContinueSession(text);
  const items: Item[] = [];
  for (const m of s?.messages ?? []) {
    if (m.text.trim()) items.push({ type: 'text', role: m.role, text: m.text, ts: null });
    for (const c of m.calls) {
      const shell = c.name === 'Bash' && isObj(c.args) && typeof c.args.command === 'string' ? { command: c.args.command } : null;
      items.push({ type: 'call', id: c.id, name: c.name, input: c.args, shell, ts: null });
      if (c.output !== null) items.push({ type: 'result', id: c.id, text: c.output, isError: false, ts: null });
    }
  }
  return { tool: 'continue', id, items, started: null, model: null, gitBranch: null };
}
