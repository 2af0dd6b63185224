/**
 * Writing a conversation as a Copilot CLI session (the format of Copilot CLI 1.0.102,
 * docs/COPILOT.md): `session-state/<id>/events.jsonl`, one event per line
 * `{type, data, id, timestamp, parentId}` chained by parentId (null on the first), and a
 * `workspace.yaml` beside it (companion, written by formats.ts).
 *
 *   session.start             {sessionId, version: 1, producer: "roam", copilotVersion, startTime, context: {cwd, branch}}
 *   user.message              {content}
 *   assistant.message         {messageId, content, toolRequests: [{toolCallId, name: "bash", arguments: {command, description}, type: "function"}]}
 *   tool.execution_start      {toolCallId, toolName: "bash", arguments}
 *   tool.execution_complete   {toolCallId, success, result: {content}}
 *
 * Measured: `copilot --resume <id>` on these events alone sends the model user, assistant (with
 * tool_calls) and tool messages in this order, then the new prompt; no index or database entry is
 * needed (the CLI creates its session-store.db rows itself). Each tool output is written right
 * after the assistant message that made the call (the chat API requires it). A shell call becomes
 * `bash {command}`; any other call becomes an assistant message holding the call and its output as
 * text (tools.ts). Hidden (meta) user messages are written as ordinary user messages: Copilot has
 * no hidden kind the model receives.
 */
import { derivedUuid } from '../../convert/ids.js';
import { NO_OUTPUT, summary } from '../../convert/tools.js';
import { pairResults } from '../../convert/pairs.js';
import { Notes, TOOL_LABEL, type CallItem, type Conversation, type ResultItem } from '../../convert/ir.js';
import { yamlScalar } from './events.js';
import { oneLine } from '../../sessions/paths.js';

/** The Copilot CLI version whose format this writes (`copilotVersion` of session.start). */
export const COPILOT_FORMAT_VERSION = '1.0.102';

export interface CopilotTargetOptions {
  readonly id: string;
  /** The directory it is registered under (session.start context.cwd, workspace.yaml cwd). */
  readonly cwd: string;
  readonly fallbackTime: string;
}

/** A toolCallId the chat API accepts (`^[a-zA-Z0-9_-]+$`). */
function callId(id: string, n: number): string {
  const s = id.replace(/[^A-Za-z0-9_-]/g, '_');
  return s || `call_roam_${n}`;
}

/** events.jsonl's text (one event per line, ending with a newline). */
export function toCopilot(conv: Conversation, opts: CopilotTargetOptions, notes: Notes): string {
  const lines: string[] = [];
  let parent: string | null = null;
  let n = 0;
  let last = conv.started ?? opts.fallbackTime;
  const event = (ts: string | null, type: string, data: Record<string, unknown>): void => {
    if (ts) last = ts;
    const id = derivedUuid(`${opts.id}\nevent ${++n}`);
    lines.push(JSON.stringify({ type, data, id, timestamp: last, parentId: parent }));
    parent = id;
  };
  event(conv.started, 'session.start', {
    sessionId: opts.id,
    version: 1,
    producer: 'roam',
    copilotVersion: COPILOT_FORMAT_VERSION,
    startTime: last,
    context: { cwd: opts.cwd, ...(conv.gitBranch ? { branch: conv.gitBranch } : {}) },
  });

  const from = TOOL_LABEL[conv.tool] as 'Claude Code' | 'Codex';
  const pairs = pairResults(conv.items);
  const consumed = new Set<ResultItem>();
  let messages = 0;
  let callCount = 0;
  let text: { text: string; ts: string | null } | null = null;
  let calls: Array<{ call: CallItem; id: string }> = [];

  const flush = (): void => {
    if (!text && !calls.length) return;
    const ts = text?.ts ?? calls[0]?.call.ts ?? null;
    event(ts, 'assistant.message', {
      messageId: derivedUuid(`${opts.id}\nmessage ${++messages}`),
      content: text?.text ?? '',
      toolRequests: calls.map(({ call, id }) => ({ toolCallId: id, name: 'bash', arguments: { command: call.shell!.command, description: 'Run a command (carried by roam)' }, type: 'function' })),
    });
    for (const { call, id } of calls) {
      const result = pairs.get(call);
      if (!result) notes.add('missing-output', 'tool calls with no recorded output: given a note as their output');
      const args = { command: call.shell!.command, description: 'Run a command (carried by roam)' };
      event(call.ts, 'tool.execution_start', { toolCallId: id, toolName: 'bash', arguments: args });
      event(result?.ts ?? call.ts, 'tool.execution_complete', { toolCallId: id, success: !(result?.isError ?? false), result: { content: result ? result.text : NO_OUTPUT } });
    }
    text = null;
    calls = [];
  };
  const say = (t: string, ts: string | null): void => {
    // Text after tool calls starts a new message (the calls' outputs come first).
    if (calls.length || text) flush();
    text = { text: t, ts };
  };

  for (const it of conv.items) {
    if (it.type === 'text') {
      if (it.role === 'assistant') say(it.text, it.ts);
      else {
        flush();
        if (it.meta) notes.add('meta', 'hidden user messages (instructions, compaction summaries): written as ordinary user messages');
        event(it.ts, 'user.message', { content: it.text });
      }
      continue;
    }
    if (it.type === 'call') {
      callCount++;
      const result = pairs.get(it) ?? null;
      if (result) consumed.add(result);
      if (it.shell) calls.push({ call: it, id: callId(it.id, callCount) });
      else {
        notes.add('tool-as-text', "tool calls with no same-shaped tool in Copilot CLI: each call and its output carried as text in the assistant's message", 1, it.name);
        say(summary(it, result, from), it.ts);
      }
      continue;
    }
    // A result ends the assistant's message; it was written right after it (or in a note).
    flush();
    if (!consumed.has(it)) notes.add('orphan-output', 'tool outputs that answer no call in the conversation: not carried');
  }
  flush();
  return lines.map((l) => `${l}\n`).join('');
}

/** The session's workspace.yaml: what the CLI writes for a new session (its name: the first prompt). */
export function copilotWorkspace(conv: Conversation, opts: CopilotTargetOptions): string {
  const first = conv.items.find((i) => i.type === 'text' && i.role === 'user' && !i.meta);
  const name = oneLine(first && first.type === 'text' ? first.text : null, 80) ?? `Converted from ${TOOL_LABEL[conv.tool]}`;
  const created = conv.started ?? opts.fallbackTime;
  let updated = created;
  for (const i of conv.items) if (i.ts && i.ts > updated) updated = i.ts;
  return [
    `id: ${opts.id}`,
    `cwd: ${yamlScalar(opts.cwd)}`,
    'client_name: github/cli',
    `name: ${yamlScalar(name)}`,
    'user_named: false',
    'summary_count: 0',
    'fork_count: 0',
    `created_at: ${created}`,
    `updated_at: ${updated}`,
    '',
  ].join('\n');
}
