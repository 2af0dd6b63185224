/**
 * Writing a conversation as a Gemini CLI session (the JSONL format of Gemini CLI 0.61.0,
 * docs/GEMINI.md), at `tmp/<slug of the directory>/chats/session-<UTC YYYY-MM-DDTHH-MM>-<id8>.jsonl`:
 *
 *   {sessionId, projectHash: sha256(dir), startTime, lastUpdated, kind: "main"}   first line
 *   {id, timestamp, type: "user", content: [{text}]}                              a user message
 *   {id, timestamp, type: "gemini", content: "<text>", model, toolCalls?: [{id, name:
 *     "run_shell_command", args: {command}, result: [{functionResponse: {id, name, response:
 *     {output}}}], status: "success"|"error", timestamp}]}                          a model turn
 *
 * This is what the CLI writes itself, and what `gemini --resume` turns back into the API history:
 * a model turn's text and its function calls, then a user turn with each call's functionResponse
 * (measured: the request holds them in this order). A model turn ends with its calls: text after
 * them starts the next model message. A shell call becomes `run_shell_command {command}`; any other
 * call becomes text in the model's message, with its output (tools.ts). Hidden (meta) user messages
 * are written as ordinary user messages: Gemini CLI has no hidden kind the model receives. The
 * history starts with a user message (a note when the source does not), as the API wants.
 */
import { createHash } from 'node:crypto';
import { derivedUuid } from '../../convert/ids.js';
import { NO_OUTPUT, summary } from '../../convert/tools.js';
import { pairResults } from '../../convert/pairs.js';
import { Notes, TOOL_LABEL, type Conversation, type ResultItem } from '../../convert/ir.js';

/** The Gemini CLI version whose session format this writes (checked against in the e2e tests). */
export const GEMINI_FORMAT_VERSION = '0.61.0';

export interface GeminiTargetOptions {
  readonly id: string;
  /** The directory it belongs to (its projectHash; the slug is in the file's path). */
  readonly cwd: string;
  readonly fallbackTime: string;
}

type ToolCallRecord = Record<string, unknown>;

/** The session file's text (JSONL, one record per line, ending with a newline). */
export function toGemini(conv: Conversation, opts: GeminiTargetOptions, notes: Notes): string {
  const records: Array<Record<string, unknown>> = [];
  let n = 0;
  const started = conv.started ?? opts.fallbackTime;
  let last = started;
  const stamp = (ts: string | null): string => {
    if (ts) last = ts;
    return last;
  };
  const newId = () => derivedUuid(`${opts.id}\nmessage ${++n}`);
  const model = conv.model ?? TOOL_LABEL[conv.tool];
  const from = TOOL_LABEL[conv.tool] as 'Claude Code' | 'Codex';
  const pairs = pairResults(conv.items);
  const consumed = new Set<ResultItem>();

  let texts: string[] = [];
  let calls: ToolCallRecord[] = [];
  let turnTs: string | null = null;
  const flush = (): void => {
    if (!texts.length && !calls.length) return;
    records.push({
      id: newId(), timestamp: turnTs ?? last, type: 'gemini', content: texts.join('\n\n'), thoughts: [], model,
      ...(calls.length ? { toolCalls: calls } : {}),
    });
    texts = [];
    calls = [];
    turnTs = null;
  };
  const user = (ts: string | null, text: string): void => {
    flush();
    records.push({ id: newId(), timestamp: stamp(ts), type: 'user', content: [{ text }] });
  };

  const first = conv.items[0];
  if (first && !(first.type === 'text' && first.role === 'user')) user(first.ts, `[This conversation was continued from a ${TOOL_LABEL[conv.tool]} session; roam converted it.]`);
  let callCount = 0;
  for (const it of conv.items) {
    if (it.type === 'text') {
      if (it.role === 'user') {
        if (it.meta) notes.add('meta-shown', 'hidden user messages (a slash command\'s expansion, a compaction summary): written as ordinary user messages, Gemini CLI has no hidden kind');
        user(it.ts, it.text);
      } else {
        if (calls.length) flush(); // text after calls is the model's next turn
        turnTs ??= stamp(it.ts);
        texts.push(it.text);
      }
      continue;
    }
    if (it.type === 'call') {
      callCount++;
      const result = pairs.get(it) ?? null;
      if (result) consumed.add(result);
      turnTs ??= stamp(it.ts);
      if (it.shell) {
        const id = it.id || `roam_call_${callCount}`;
        if (!result) notes.add('missing-output', 'tool calls with no recorded output: given a note as their output');
        const output = result ? result.text : NO_OUTPUT;
        calls.push({
          id, name: 'run_shell_command', args: { command: it.shell.command },
          result: [{ functionResponse: { id, name: 'run_shell_command', response: result?.isError ? { error: output } : { output } } }],
          status: result?.isError ? 'error' : 'success', timestamp: stamp(result?.ts ?? it.ts),
        });
      } else {
        notes.add('tool-as-text', "tool calls with no same-shaped tool in Gemini CLI: each call and its output carried as text in the model's message", 1, it.name);
        if (calls.length) flush();
        turnTs ??= stamp(it.ts);
        texts.push(summary(it, result, from));
      }
      continue;
    }
    if (!consumed.has(it)) notes.add('orphan-output', 'tool outputs that answer no call in the conversation: not carried');
  }
  flush();
  const head = { sessionId: opts.id, projectHash: createHash('sha256').update(opts.cwd).digest('hex'), startTime: started, lastUpdated: last, kind: 'main' };
  return [head, ...records].map((r) => `${JSON.stringify(r)}\n`).join('');
}

/** The file name Gemini CLI gives a session started at `d`: `session-<UTC YYYY-MM-DDTHH-MM>-<id8>.jsonl`. */
export function geminiFileName(id: string, d: Date): string {
  return `session-${d.toISOString().slice(0, 16).replace(/:/g, '-')}-${id.slice(0, 8)}.jsonl`;
}
