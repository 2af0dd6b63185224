/**
 * Reading a Codex rollout for conversion: the `response_item`s in file order, which is what a
 * resume sends back to the model (docs/CODEX.md). A fork's inherited history (`history_base`) is
 * put in front by the caller (index.ts). A `compacted` line replaces the history before it, as
 * Codex does: with its `replacement_history` when it has one, else with the user's messages so far
 * and the summary.
 *
 * Dropped here: `developer` messages (Codex's instructions; the target has its own), the context
 * Codex adds as user messages (`<environment_context>`, AGENTS.md instructions, …), `reasoning`
 * items (encrypted), images (a text placeholder stays), and bookkeeping lines (event_msg,
 * turn_context, token counts), which are not conversation.
 */
import { contentText as rolloutText, isContextMessage, toolOutput } from './rollout.js';
import { codexLocalShell, codexShell } from '../../convert/tools.js';
import { jsonObject } from '../../sessions/lines.js';
import { IMAGE_PLACEHOLDER, Notes, type Conversation, type Item } from '../../convert/ir.js';

type Obj = Record<string, unknown>;

const IMAGE_NOTE = 'images in messages and tool outputs: a text placeholder stands where each was';

/** Text of a content array as rollout.ts reads it, images become the placeholder (and a note). */
function contentText(content: unknown, notes: Notes): string {
  return rolloutText(content, () => {
    notes.add('image', IMAGE_NOTE);
    return IMAGE_PLACEHOLDER;
  });
}

/** A tool's output as rollout.ts reads it (images noted), and an exec_command's exit code. */
function outputOf(out: unknown, notes: Notes): { text: string; isError: boolean } {
  const { text, isError } = toolOutput(out, (items) => contentText(items, notes));
  // exec_command (0.16x): "… Process exited with code N\n… Output:\n…"
  const exit = /^Process exited with code (-?\d+)$/m.exec(text);
  return { text, isError: isError || (exit !== null && exit[1] !== '0') };
}

function parseArgs(args: unknown): unknown {
  if (typeof args !== 'string') return args ?? null;
  try {
    return JSON.parse(args) as unknown;
  } catch {
    return args;
  }
}

/** The conversation of a rollout's text (a fork's inherited history already in front). */
export function fromCodex(text: string, id: string, notes: Notes): Conversation {
  let items: Item[] = [];
  const events: Item[] = [];
  let sawItem = false;
  let started: string | null = null;
  let model: string | null = null;
  let branch: string | null = null;

  const item = (p: Obj, ts: string | null): void => {
    switch (p.type) {
      case 'message': {
        sawItem = true;
        const role = p.role;
        if (role === 'developer' || role === 'system') {
          notes.add('developer', "Codex's developer/system messages (its instructions; the target tool sends its own)");
          return;
        }
        const t = contentText(p.content, notes);
        if (role === 'user') {
          if (isContextMessage(t)) {
            notes.add('context', 'context Codex adds as user messages (environment, AGENTS.md instructions, …; the target adds its own)');
            return;
          }
          if (t.trim()) items.push({ type: 'text', role: 'user', text: t, ts });
        } else if (role === 'assistant' && t.trim()) items.push({ type: 'text', role: 'assistant', text: t, ts });
        return;
      }
      case 'reasoning':
        sawItem = true;
        notes.add('reasoning', "reasoning items (the model's reasoning, encrypted for OpenAI's API): not carried");
        return;
      case 'function_call': {
        sawItem = true;
        const name = typeof p.name === 'string' ? p.name : '?';
        const input = parseArgs(p.arguments);
        items.push({ type: 'call', id: callId(p), name, input, shell: codexShell(name, input), ts });
        return;
      }
      case 'custom_tool_call':
        sawItem = true;
        items.push({ type: 'call', id: callId(p), name: typeof p.name === 'string' ? p.name : '?', input: p.input ?? null, shell: null, ts });
        return;
      case 'local_shell_call':
        sawItem = true;
        items.push({ type: 'call', id: callId(p), name: 'local_shell', input: p.action ?? null, shell: codexLocalShell(p.action), ts });
        return;
      case 'web_search_call':
        sawItem = true;
        items.push({ type: 'call', id: callId(p), name: 'web_search', input: p.action ?? null, shell: null, ts });
        return;
      case 'function_call_output':
      case 'custom_tool_call_output':
      case 'local_shell_call_output': {
        sawItem = true;
        const out = outputOf(p.output, notes);
        items.push({ type: 'result', id: callId(p), text: out.text, isError: out.isError, ts });
        return;
      }
      default:
        if (typeof p.type === 'string') notes.add('other-item', 'response items of other kinds (tool lists, settings updates, snapshots): not carried', 1, p.type);
    }
  };

  for (const line of text.split('\n')) {
    const o = jsonObject(line);
    if (!o) continue;
    const p = o.payload as Obj | undefined;
    const ts = typeof o.timestamp === 'string' ? o.timestamp : null;
    if (!p || typeof p !== 'object') continue;
    switch (o.type) {
      case 'session_meta': {
        started ??= typeof p.timestamp === 'string' ? p.timestamp : ts;
        const git = p.git as { branch?: unknown } | undefined;
        if (git && typeof git.branch === 'string') branch = git.branch;
        break;
      }
      case 'turn_context':
        if (typeof p.model === 'string') model = p.model;
        break;
      case 'response_item':
        started ??= ts;
        item(p, ts);
        break;
      case 'compacted': {
        sawItem = true;
        notes.add('compaction', 'history before a compaction: carried as Codex itself keeps it (its replacement history, or the user messages and the summary)');
        const replacement = p.replacement_history;
        if (Array.isArray(replacement)) {
          items = [];
          for (const r of replacement) if (r && typeof r === 'object') item(r as Obj, ts);
        } else {
          items = items.filter((i) => i.type === 'text' && i.role === 'user' && !i.meta);
          if (typeof p.message === 'string' && p.message.trim()) items.push({ type: 'text', role: 'user', text: p.message, meta: true, ts });
        }
        break;
      }
      case 'event_msg':
        if ((p.type === 'user_message' || p.type === 'agent_message') && typeof p.message === 'string' && p.message.trim()) {
          events.push({ type: 'text', role: p.type === 'user_message' ? 'user' : 'assistant', text: p.message, ts });
        }
        break;
      default:
        break;
    }
  }
  // Old or partial rollouts may hold only the event copies of the messages.
  if (!sawItem) items = events;
  return { tool: 'codex', id, items, started, model, gitBranch: branch };
}

function callId(p: Obj): string {
  return typeof p.call_id === 'string' ? p.call_id : typeof p.id === 'string' ? p.id : '';
}
