/**
 * Reading a Gemini CLI session for conversion: the messages as the CLI replays them on `--resume`
 * (its convertSessionToClientHistory, measured with 0.61.0, docs/GEMINI.md): the records' last
 * state after re-appended ids, `$set.messages` and `$rewindTo` (session.ts), user messages
 * (not the CLI's own `<session_context>`, not slash commands), and each model message's text, then
 * its tool calls (`toolCalls`, or `functionCall` parts) and their results.
 *
 * `run_shell_command {command, dir_path?}` is the shell call; every other tool is carried as text by
 * the writers. Dropped here: thoughts (the model's reasoning summaries), the CLI's context blocks,
 * slash commands, info/error/warning messages (never sent to the model), inline data (a placeholder
 * stands in), and the user records that repeat a tool's result (the CLI writes the result both in
 * the call and as a user message of `functionResponse` parts).
 */
import { isIgnoredUserText, parseGeminiSession, partsText, toolResultText } from './session.js';
import { shellQuote } from '../../convert/tools.js';
import { IMAGE_PLACEHOLDER, Notes, type Conversation, type Item, type ShellCommand } from '../../convert/ir.js';

type Obj = Record<string, unknown>;

function isObj(v: unknown): v is Obj {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** Gemini CLI's shell tool: `run_shell_command {command, description?, dir_path?}`. */
export function geminiShell(name: string, args: unknown): ShellCommand | null {
  if (name !== 'run_shell_command' || !isObj(args) || typeof args.command !== 'string') return null;
  const dir = typeof args.dir_path === 'string' ? args.dir_path : typeof args.directory === 'string' ? args.directory : '';
  return { command: dir ? `cd ${shellQuote(dir)} && ${args.command}` : args.command };
}

/** The text of a user content, inline data replaced by the placeholder. */
function userText(content: unknown, notes: Notes): string {
  const parts = Array.isArray(content) ? content : [content];
  let out = '';
  for (const p of parts) {
    if (typeof p === 'string') out += p;
    else if (isObj(p) && typeof p.text === 'string' && p.thought !== true) out += p.text;
    else if (isObj(p) && (isObj(p.inlineData) || isObj(p.fileData))) {
      notes.add('image', 'images and files in messages (inline data): a text placeholder stands where each was');
      out += IMAGE_PLACEHOLDER;
    }
  }
  return out;
}

function onlyFunctionResponses(content: unknown): boolean {
  return Array.isArray(content) && content.length > 0 && content.every((p) => isObj(p) && isObj(p.functionResponse));
}

/** The conversation of a Gemini CLI session file's text (JSONL records, or a legacy whole-file .json). */
export function fromGemini(text: string, id: string, notes: Notes): Conversation {
  const s = parseGeminiSession(text);
  const items: Item[] = [];
  let model: string | null = null;
  let calls = 0;
  const unanswered = new Set<string>();
  for (const m of s?.messages ?? []) {
    const ts = m.timestamp;
    if (m.type === 'user') {
      if (onlyFunctionResponses(m.content)) {
        // Usually a repeat of results carried with their calls; the results of calls made as functionCall parts otherwise.
        for (const p of m.content as Obj[]) {
          const r = p.functionResponse as Obj;
          const callId = typeof r.id === 'string' ? r.id : null;
          if (callId === null || !unanswered.delete(callId)) continue;
          const out = isObj(r.response) ? r.response : {};
          items.push({ type: 'result', id: callId, text: toolResultText([p]), isError: typeof out.error === 'string' && typeof out.output !== 'string', ts });
        }
        continue;
      }
      const t = userText(m.content, notes);
      const trimmed = t.trim();
      if (trimmed.startsWith('<session_context>') || trimmed.startsWith('<hook_context>')) {
        notes.add('context', "context Gemini CLI adds as user messages (<session_context>: date, OS, directory listing; the target adds its own)");
        continue;
      }
      if (isIgnoredUserText(t)) {
        if (trimmed) notes.add('command', 'slash commands and `?` help requests (Gemini CLI does not send them to the model)');
        continue;
      }
      items.push({ type: 'text', role: 'user', text: t, ts });
      continue;
    }
    if (m.type !== 'gemini') {
      notes.add('info', "Gemini CLI's info, error and warning messages (shown in its UI, never sent to the model)", 1, m.type);
      continue;
    }
    if (m.model) model = m.model;
    if (m.thoughts > 0) notes.add('thoughts', "the model's thoughts (reasoning summaries Gemini CLI records): not carried", m.thoughts);
    const content = Array.isArray(m.content) ? m.content : [m.content];
    if (content.some((p) => isObj(p) && p.thought === true)) notes.add('thoughts', "the model's thoughts (reasoning summaries Gemini CLI records): not carried");
    const t = partsText(m.content);
    if (t.trim()) items.push({ type: 'text', role: 'assistant', text: t, ts });
    if (m.toolCalls.length) {
      for (const c of m.toolCalls) {
        const callId = c.id ?? `gemini_call_${++calls}`;
        items.push({ type: 'call', id: callId, name: c.name, input: c.args, shell: geminiShell(c.name, c.args), ts });
        if (c.result !== null) items.push({ type: 'result', id: callId, text: toolResultText(c.result), isError: c.status === 'error', ts });
      }
    } else {
      for (const p of content) {
        if (!isObj(p) || !isObj(p.functionCall)) continue;
        const f = p.functionCall;
        const name = typeof f.name === 'string' ? f.name : '?';
        const callId = typeof f.id === 'string' ? f.id : `gemini_call_${++calls}`;
        unanswered.add(callId);
        items.push({ type: 'call', id: callId, name, input: f.args ?? null, shell: geminiShell(name, f.args), ts });
      }
    }
  }
  return { tool: 'gemini', id, items, started: s?.startTime ?? items[0]?.ts ?? null, model, gitBranch: null };
}
