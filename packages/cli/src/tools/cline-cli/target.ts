/**
 * Writing a conversation as a Cline CLI session (the files of `cline` 3.0.65, session.ts):
 * `data/sessions/<id>/<id>.messages.json` and its metadata `<id>.json`, which is all `cline --id
 * <id>` needs to resume it (measured: no entry in its SQLite index). User texts are wrapped as the
 * CLI wraps them (`<user_input mode="act">`); the assistant's consecutive texts are one message.
 * Every tool call is carried as text in the assistant's message, with its output (convert/tools.ts):
 * the CLI's own tool calls were not measured.
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { derivedUuid } from '../../convert/ids.js';
import { pairResults } from '../../convert/pairs.js';
import { summary } from '../../convert/tools.js';
import { Notes, TOOL_LABEL, type Conversation, type ResultItem } from '../../convert/ir.js';
import type { TargetFile, WriteOptions } from '../../convert/format.js';
import { wrapUserInput } from './session.js';

/** The Cline CLI version whose session files this writes. */
export const CLINE_CLI_VERSION = '3.0.65';

/**
 * A derived UUID as an id of the CLI's shape (`<13 digits>_<5 of [0-9a-z]>`): the digits from its
 * first 40 bits, the suffix from the next 25.
 */
export function clineCliId(derived: string): string {
  const hex = derived.replace(/-/g, '');
  const digits = String(parseInt(hex.slice(0, 10), 16) % 1e13).padStart(13, '1');
  const suffix = parseInt(hex.slice(10, 17), 16).toString(36).padStart(5, '0').slice(-5);
  return `${digits}_${suffix}`;
}

type Block = { type: 'text'; text: string };
interface Msg { id: string; role: 'user' | 'assistant'; content: Block[]; ts: number }

function millis(ts: string | null, fallback: string): number {
  const t = Date.parse(ts ?? fallback);
  return Number.isFinite(t) ? t : Date.now();
}

/** The `<id>.messages.json` text. */
export function toClineCli(conv: Conversation, opts: WriteOptions, notes: Notes): string {
  const from = (TOOL_LABEL[conv.tool] ?? conv.tool) as 'Claude Code' | 'Codex';
  const pairs = pairResults(conv.items);
  const consumed = new Set<ResultItem>();
  const messages: Msg[] = [];
  let last = conv.started ?? opts.fallbackTime;
  const push = (role: 'user' | 'assistant', text: string, ts: string | null): void => {
    if (ts) last = ts;
    const prev = messages[messages.length - 1];
    if (prev && prev.role === role && role === 'assistant') {
      prev.content.push({ type: 'text', text });
      return;
    }
    messages.push({ id: derivedUuid(`${opts.id}\nmessage ${messages.length + 1}`), role, content: [{ type: 'text', text: role === 'user' ? wrapUserInput(text) : text }], ts: millis(ts, last) });
  };
  const first = conv.items[0];
  if (first && !(first.type === 'text' && first.role === 'user')) push('user', `[This conversation was continued from a ${from} session; roam converted it.]`, first.ts);
  for (const it of conv.items) {
    if (it.type === 'text') {
      if (it.role === 'user' && it.meta) notes.add('meta-shown', "hidden user messages (a slash command's expansion, a compaction summary): written as ordinary user messages, the Cline CLI has no hidden kind");
      push(it.role, it.text, it.ts);
    } else if (it.type === 'call') {
      const result = pairs.get(it) ?? null;
      if (result) consumed.add(result);
      notes.add('tool-as-text', "tool calls: each call and its output carried as text in the model's message (the Cline CLI's own tool calls were not measured)", 1, it.name);
      push('assistant', summary(it, result, from), it.ts);
    } else if (!consumed.has(it)) notes.add('orphan-output', 'tool outputs that answer no call in the conversation: not carried');
  }
  const updated = new Date(messages.length ? messages[messages.length - 1]!.ts : millis(null, opts.fallbackTime)).toISOString();
  return `${JSON.stringify({ version: 1, updated_at: updated, agent: 'lead', sessionId: opts.id, messages }, null, 2)}\n`;
}

/** The provider and model the CLI last used (`data/settings/providers.json` of the data directory `data`), or nulls. */
function lastProvider(data: string): { provider: string | null; model: string | null } {
  try {
    const v = JSON.parse(readFileSync(join(data, 'settings', 'providers.json'), 'utf8')) as { lastUsedProvider?: unknown; providers?: Record<string, { settings?: { model?: unknown } }> };
    const provider = typeof v.lastUsedProvider === 'string' ? v.lastUsedProvider : null;
    const model = provider ? v.providers?.[provider]?.settings?.model : undefined;
    return { provider, model: typeof model === 'string' ? model : null };
  } catch {
    return { provider: null, model: null };
  }
}

/**
 * The metadata file `<id>.json` beside the messages, with every field the CLI writes: `cline --id`
 * shows no history for a file without `pid`, `exit_code`, `team_name` and `enable_*` (measured), and
 * reads the messages from `messages_path`. Provider and model: the ones the CLI last used here.
 */
export function clineCliCompanions(conv: Conversation, opts: WriteOptions, transcript: string): TargetFile[] {
  const first = conv.items.find((i) => i.type === 'text' && i.role === 'user');
  const prompt = first && first.type === 'text' ? first.text : '';
  const started = conv.started ?? opts.fallbackTime;
  const { provider, model } = lastProvider(dirname(dirname(dirname(transcript))));
  const meta = {
    version: 1, session_id: opts.id, source: 'cli', pid: process.pid, started_at: started, ended_at: started, exit_code: 0, status: 'completed',
    interactive: true, provider: provider ?? 'cline', model: model ?? conv.model ?? '', cwd: opts.cwd, workspace_root: opts.cwd,
    team_name: 'team-roam', enable_tools: true, enable_spawn: true, enable_teams: true, prompt,
    metadata: { title: prompt.split('\n')[0]!.slice(0, 200) }, messages_path: transcript,
  };
  return [{ path: transcript.replace(/\.messages\.json$/, '.json'), bytes: Buffer.from(`${JSON.stringify(meta, null, 2)}\n`) }];
}
