/**
 * Writing a conversation as a Codex rollout (the format of Codex CLI 0.169, docs/CODEX.md):
 *
 *   session_meta   {id, timestamp, cwd, originator: "roam", cli_version, source: "cli", git.branch}
 *   response_item  message (user: input_text, assistant: output_text), function_call
 *                  (exec_command, arguments as JSON text, call_id), function_call_output
 *   event_msg      user_message / agent_message beside each message, which is what Codex's
 *                  terminal UI draws when it resumes a session (measured: without them the
 *                  resumed screen is empty of the old conversation)
 *
 * A shell call becomes `exec_command {cmd}`; any other call becomes an assistant message holding
 * the call and its output as text (tools.ts). Meta user messages (hidden in the source) go to the
 * model but get no user_message event. No developer message or environment context is written:
 * Codex adds its own instructions and this machine's context when it resumes (measured).
 */
import { NO_OUTPUT, summary } from '../../convert/tools.js';
import { pairResults } from '../../convert/pairs.js';
import { Notes, TOOL_LABEL, type Conversation, type ResultItem } from '../../convert/ir.js';

/** The Codex version whose rollout format this writes (and checked against in the tests). */
export const CODEX_FORMAT_VERSION = '0.169.0';

export interface CodexTargetOptions {
  /** The new session's id. */
  readonly id: string;
  /** The directory it belongs to (session_meta.cwd). */
  readonly cwd: string;
  /** The timestamp of lines that have none (and of session_meta when the source has none). */
  readonly fallbackTime: string;
}

/** The rollout's text (JSONL, one line per item, ending with a newline). */
export function toCodex(conv: Conversation, opts: CodexTargetOptions, notes: Notes): string {
  const lines: string[] = [];
  let last = conv.started ?? opts.fallbackTime;
  const line = (ts: string | null, type: string, payload: Record<string, unknown>): void => {
    if (ts) last = ts;
    lines.push(JSON.stringify({ timestamp: last, type, payload }));
  };
  line(conv.started, 'session_meta', {
    id: opts.id,
    timestamp: last,
    cwd: opts.cwd,
    originator: 'roam',
    cli_version: CODEX_FORMAT_VERSION,
    source: 'cli',
    ...(conv.gitBranch ? { git: { branch: conv.gitBranch } } : {}),
  });
  const from = TOOL_LABEL[conv.tool] as 'Claude Code' | 'Codex';
  const pairs = pairResults(conv.items);
  const consumed = new Set<ResultItem>();
  const native = new Set<ResultItem>();
  const say = (ts: string | null, text: string): void => {
    line(ts, 'response_item', { type: 'message', role: 'assistant', content: [{ type: 'output_text', text }] });
    line(ts, 'event_msg', { type: 'agent_message', message: text });
  };
  let calls = 0;
  for (const it of conv.items) {
    if (it.type === 'text') {
      if (it.role === 'user') {
        line(it.ts, 'response_item', { type: 'message', role: 'user', content: [{ type: 'input_text', text: it.text }] });
        if (!it.meta) line(it.ts, 'event_msg', { type: 'user_message', message: it.text, images: [] });
      } else say(it.ts, it.text);
      continue;
    }
    if (it.type === 'call') {
      calls++;
      const result = pairs.get(it) ?? null;
      if (result) consumed.add(result);
      if (it.shell) {
        const callId = it.id || `call_roam_${calls}`;
        line(it.ts, 'response_item', { type: 'function_call', name: 'exec_command', arguments: JSON.stringify({ cmd: it.shell.command }), call_id: callId });
        if (result) native.add(result);
        else {
          notes.add('missing-output', 'tool calls with no recorded output: given a note as their output');
          line(it.ts, 'response_item', { type: 'function_call_output', call_id: callId, output: NO_OUTPUT });
        }
      } else {
        notes.add('tool-as-text', `tool calls with no same-shaped tool in Codex: each call and its output carried as text in the assistant's message`, 1, it.name);
        say(it.ts, summary(it, result, from));
      }
      continue;
    }
    // A result: written where it is when its call was carried as a call; part of the note otherwise.
    if (native.has(it)) {
      line(it.ts, 'response_item', { type: 'function_call_output', call_id: it.id, output: it.isError ? `[error]\n${it.text}` : it.text });
    } else if (!consumed.has(it)) {
      notes.add('orphan-output', 'tool outputs that answer no call in the conversation: not carried');
    }
  }
  return lines.map((l) => `${l}\n`).join('');
}
