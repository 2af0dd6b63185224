/**
 * Writing a conversation as a Claude Code transcript (the format of Claude Code 2.1.x,
 * docs/CLAUDE-CODE.md): `user` and `assistant` lines chained by `uuid`/`parentUuid` (null on the
 * first), each with the session's `sessionId`, `cwd` (the directory it is registered under),
 * `gitBranch`, `version`, `timestamp`. An assistant message is one line per content block, the
 * blocks of one message sharing `message.id`, as the CLI writes them; each tool output is a `user`
 * line of its own holding one `tool_result`, right after the assistant message that made the call
 * (the API requires that order, so outputs are moved there when the source had something between).
 *
 * A shell call becomes `Bash {command}`; any other call becomes a text block holding the call and
 * its output (tools.ts). Meta user messages keep `isMeta` (sent to the model, not shown).
 */
import { derivedUuid } from '../../convert/ids.js';
import { NO_OUTPUT, summary } from '../../convert/tools.js';
import { pairResults } from '../../convert/pairs.js';
import { Notes, TOOL_LABEL, type CallItem, type Conversation, type ResultItem } from '../../convert/ir.js';

/** The Claude Code version whose transcript format this writes (`version` of each line). */
export const CLAUDE_FORMAT_VERSION = '2.1.329';

export interface ClaudeTargetOptions {
  readonly id: string;
  /** The real path of the directory whose project key it is registered under. */
  readonly cwd: string;
  readonly fallbackTime: string;
}

type Block = Record<string, unknown>;

/** A tool_use id the API accepts (`^[a-zA-Z0-9_-]+$`). */
function toolUseId(id: string, n: number): string {
  const s = id.replace(/[^A-Za-z0-9_-]/g, '_');
  return s || `toolu_roam_${n}`;
}

/** The transcript's text (JSONL, one line per block or prompt, ending with a newline). */
export function toClaude(conv: Conversation, opts: ClaudeTargetOptions, notes: Notes): string {
  const lines: string[] = [];
  let parent: string | null = null;
  let n = 0;
  let last = conv.started ?? opts.fallbackTime;
  const model = conv.model ?? TOOL_LABEL[conv.tool];
  const push = (ts: string | null, fields: Record<string, unknown>): void => {
    if (ts) last = ts;
    const uuid = derivedUuid(`${opts.id}\nline ${++n}`);
    lines.push(JSON.stringify({
      parentUuid: parent, isSidechain: false, userType: 'external', cwd: opts.cwd, sessionId: opts.id,
      version: CLAUDE_FORMAT_VERSION, gitBranch: conv.gitBranch ?? '', ...fields, uuid, timestamp: last,
    }));
    parent = uuid;
  };
  const user = (ts: string | null, content: unknown, meta = false): void =>
    push(ts, { type: 'user', message: { role: 'user', content }, ...(meta ? { isMeta: true } : {}) });

  const from = TOOL_LABEL[conv.tool] as 'Claude Code' | 'Codex';
  const pairs = pairResults(conv.items);
  const consumed = new Set<ResultItem>();
  let blocks: Array<{ block: Block; ts: string | null }> = [];
  let calls: Array<{ call: CallItem; id: string }> = [];
  let messages = 0;
  let callCount = 0;

  const flush = (): void => {
    if (!blocks.length) return;
    const id = `msg_roam_${derivedUuid(`${opts.id}\nmessage ${++messages}`).replace(/-/g, '').slice(0, 24)}`;
    const stop = calls.length ? 'tool_use' : 'end_turn';
    blocks.forEach(({ block, ts }, i) => {
      push(ts, {
        type: 'assistant',
        message: {
          id, type: 'message', role: 'assistant', model, content: [block],
          stop_reason: i === blocks.length - 1 ? stop : null, stop_sequence: null, usage: { input_tokens: 0, output_tokens: 0 },
        },
      });
    });
    for (const { call, id: useId } of calls) {
      const result = pairs.get(call);
      if (!result) notes.add('missing-output', 'tool calls with no recorded output: given a note as their output');
      user(result?.ts ?? call.ts, [{ tool_use_id: useId, type: 'tool_result', content: result ? result.text : NO_OUTPUT, is_error: result?.isError ?? false }]);
    }
    blocks = [];
    calls = [];
  };

  // The API wants a user message first.
  const first = conv.items[0];
  if (first && !(first.type === 'text' && first.role === 'user')) {
    user(first.ts, `[This conversation was continued from a ${TOOL_LABEL[conv.tool]} session; roam converted it.]`, true);
  }
  for (const it of conv.items) {
    if (it.type === 'text') {
      if (it.role === 'assistant') blocks.push({ block: { type: 'text', text: it.text }, ts: it.ts });
      else {
        flush();
        user(it.ts, it.text, it.meta === true);
      }
      continue;
    }
    if (it.type === 'call') {
      callCount++;
      const result = pairs.get(it) ?? null;
      if (result) consumed.add(result);
      if (it.shell) {
        const id = toolUseId(it.id, callCount);
        blocks.push({ block: { type: 'tool_use', id, name: 'Bash', input: { command: it.shell.command } }, ts: it.ts });
        calls.push({ call: it, id });
      } else {
        notes.add('tool-as-text', "tool calls with no same-shaped tool in Claude Code: each call and its output carried as text in the assistant's message", 1, it.name);
        blocks.push({ block: { type: 'text', text: summary(it, result, from) }, ts: it.ts });
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
