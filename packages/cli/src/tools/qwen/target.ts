/**
 * Writing a conversation as a Qwen Code session (the JSONL of Qwen Code 0.15.10, docs/tools/qwen.md),
 * at `projects/<key of the directory>/chats/<id>.jsonl`, one record per line, each the child of
 * the one before (`parentUuid`):
 *
 *   {uuid, parentUuid, sessionId, timestamp, type: "user", cwd, version, message: {role: "user", parts: [{text}]}}
 *   {…, type: "assistant", model, message: {role: "model", parts: [{text}, {functionCall: {id, name: "run_shell_command", args: {command}}}]}}
 *   {…, type: "tool_result", message: {role: "user", parts: [{functionResponse: {id, name, response: {output} | {error}}}]}}
 *
 * This is what the CLI writes itself and what `qwen -r` sends back as the history (measured: the
 * request holds the texts, the call as an assistant tool_call and its output as a tool message, in
 * this order). The first record's cwd is the directory: the CLI resumes the file only from there.
 * A shell call becomes `run_shell_command {command}`; any other call becomes text in the model's
 * message, with its output (convert/tools.ts). The history starts with a user message.
 */
import { derivedUuid } from '../../convert/ids.js';
import { NO_OUTPUT, summary } from '../../convert/tools.js';
import { pairResults } from '../../convert/pairs.js';
import { Notes, TOOL_LABEL, type Conversation, type ResultItem } from '../../convert/ir.js';

/** The Qwen Code version whose session format this writes (checked against in the e2e tests). */
export const QWEN_FORMAT_VERSION = '0.15.10';

export interface QwenTargetOptions {
  readonly id: string;
  readonly cwd: string;
  readonly fallbackTime: string;
}

type Part = Record<string, unknown>;

/** The session file's text (JSONL, ending with a newline). */
export function toQwen(conv: Conversation, opts: QwenTargetOptions, notes: Notes): string {
  const lines: string[] = [];
  let n = 0;
  let parent: string | null = null;
  let last = conv.started ?? opts.fallbackTime;
  const stamp = (ts: string | null): string => (ts ? (last = ts) : last);
  const model = conv.model ?? TOOL_LABEL[conv.tool] ?? conv.tool;
  const from = (TOOL_LABEL[conv.tool] ?? conv.tool) as 'Claude Code' | 'Codex';
  const record = (type: string, role: string, parts: Part[], ts: string | null): void => {
    const uuid = derivedUuid(`${opts.id}\nrecord ${++n}`);
    lines.push(JSON.stringify({
      uuid, parentUuid: parent, sessionId: opts.id, timestamp: stamp(ts), type, cwd: opts.cwd, version: QWEN_FORMAT_VERSION,
      ...(type === 'assistant' ? { model } : {}), message: { role, parts },
    }));
    parent = uuid;
  };
  const pairs = pairResults(conv.items);
  const consumed = new Set<ResultItem>();

  let parts: Part[] = [];
  let responses: Part[] = [];
  let turnTs: string | null = null;
  const flush = (): void => {
    if (parts.length) record('assistant', 'model', parts, turnTs);
    if (responses.length) record('tool_result', 'user', responses, turnTs);
    parts = [];
    responses = [];
    turnTs = null;
  };

  const first = conv.items[0];
  if (first && !(first.type === 'text' && first.role === 'user')) record('user', 'user', [{ text: `[This conversation was continued from a ${TOOL_LABEL[conv.tool] ?? conv.tool} session; roam converted it.]` }], first.ts);
  let callCount = 0;
  for (const it of conv.items) {
    if (it.type === 'text') {
      if (it.role === 'user') {
        flush();
        if (it.meta) notes.add('meta-shown', "hidden user messages (a slash command's expansion, a compaction summary): written as ordinary user messages, Qwen Code has no hidden kind");
        record('user', 'user', [{ text: it.text }], it.ts);
      } else {
        if (responses.length) flush(); // text after calls' outputs is the model's next turn
        turnTs ??= it.ts;
        parts.push({ text: it.text });
      }
      continue;
    }
    if (it.type === 'call') {
      callCount++;
      const result = pairs.get(it) ?? null;
      if (result) consumed.add(result);
      turnTs ??= it.ts;
      if (it.shell) {
        const id = it.id || `roam_call_${callCount}`;
        if (!result) notes.add('missing-output', 'tool calls with no recorded output: given a note as their output');
        const output = result ? result.text : NO_OUTPUT;
        parts.push({ functionCall: { id, name: 'run_shell_command', args: { command: it.shell.command } } });
        responses.push({ functionResponse: { id, name: 'run_shell_command', response: result?.isError ? { error: output } : { output } } });
      } else {
        notes.add('tool-as-text', "tool calls with no same-shaped tool in Qwen Code: each call and its output carried as text in the model's message", 1, it.name);
        if (responses.length) flush();
        parts.push({ text: summary(it, result, from) });
      }
      continue;
    }
    if (!consumed.has(it)) notes.add('orphan-output', 'tool outputs that answer no call in the conversation: not carried');
  }
  flush();
  return lines.map((l) => `${l}\n`).join('');
}
