/**
 * Reading a Claude Code transcript for conversion: the conversation the CLI would replay, i.e. the
 * user and assistant lines on the path from the root (or the last compaction) to the current leaf,
 * as transcript.ts finds it. Side chains (sub-agents' own conversations) and rewound branches are
 * off that path: a sub-agent's work reaches the conversation as its Task call's result.
 *
 * Dropped here: thinking blocks (signed for Anthropic's API, and hidden reasoning), images (a text
 * placeholder stays where they were), API error messages the CLI wrote as assistant lines.
 */
import { claudeShell } from '../../convert/tools.js';
import { jsonObject } from '../../sessions/lines.js';
import { IMAGE_PLACEHOLDER, Notes, type Conversation, type Item } from '../../convert/ir.js';

type Obj = Record<string, unknown>;
type Block = { type?: unknown; text?: unknown; id?: unknown; name?: unknown; input?: unknown; tool_use_id?: unknown; content?: unknown; is_error?: unknown };

export { IMAGE_PLACEHOLDER };

function isMessage(o: Obj): boolean {
  return (o.type === 'user' || o.type === 'assistant') && typeof o.message === 'object' && o.message !== null;
}

/** The message lines of the conversation, root to leaf. */
export function claudePath(text: string): { path: Obj[]; sideChain: number } {
  const byUuid = new Map<string, Obj>();
  let leaf: string | null = null;
  let sideChain = 0;
  for (const line of text.split('\n')) {
    const o = jsonObject(line);
    if (!o || typeof o.uuid !== 'string') continue;
    byUuid.set(o.uuid, o);
    if (!isMessage(o)) continue;
    if (o.isSidechain === true) sideChain++;
    else leaf = o.uuid;
  }
  const path: Obj[] = [];
  const seen = new Set<string>();
  for (let u = leaf; u !== null && !seen.has(u); ) {
    seen.add(u);
    const o = byUuid.get(u);
    if (!o) break;
    if (isMessage(o)) path.push(o);
    u = typeof o.parentUuid === 'string' ? o.parentUuid : null;
  }
  return { path: path.reverse(), sideChain };
}

function resultText(c: unknown, notes: Notes): string {
  if (typeof c === 'string') return c;
  if (!Array.isArray(c)) return c === undefined || c === null ? '' : JSON.stringify(c);
  const parts: string[] = [];
  for (const b of c as Block[]) {
    if (!b || typeof b !== 'object') continue;
    if (b.type === 'text' && typeof b.text === 'string') parts.push(b.text);
    else if (b.type === 'image' || b.type === 'document') {
      notes.add('image', 'images (and documents) in messages and tool outputs: a text placeholder stands where each was');
      parts.push(IMAGE_PLACEHOLDER);
    }
  }
  return parts.join('\n');
}

/** The conversation of a transcript's text (`id`: the session's id). */
export function fromClaude(text: string, id: string, notes: Notes): Conversation {
  const { path, sideChain } = claudePath(text);
  notes.add('side-chain', "sub-agents' own conversations (side-chain lines): not carried; each sub-agent's result is, with its call", sideChain);
  const items: Item[] = [];
  let started: string | null = null;
  let model: string | null = null;
  let branch: string | null = null;
  for (const o of path) {
    const ts = typeof o.timestamp === 'string' ? o.timestamp : null;
    started ??= ts;
    if (typeof o.gitBranch === 'string' && o.gitBranch) branch = o.gitBranch;
    const m = o.message as { content?: unknown; model?: unknown };
    if (o.type === 'user') {
      const meta = o.isMeta === true || o.isCompactSummary === true;
      const content = m.content;
      if (typeof content === 'string') {
        if (content.trim()) items.push({ type: 'text', role: 'user', text: content, ts, ...(meta ? { meta } : {}) });
        continue;
      }
      if (!Array.isArray(content)) continue;
      let texts: string[] = [];
      const flush = () => {
        const t = texts.join('\n\n');
        if (t.trim()) items.push({ type: 'text', role: 'user', text: t, ts, ...(meta ? { meta } : {}) });
        texts = [];
      };
      for (const b of content as Block[]) {
        if (!b || typeof b !== 'object') continue;
        if (b.type === 'tool_result') {
          flush();
          items.push({ type: 'result', id: typeof b.tool_use_id === 'string' ? b.tool_use_id : '', text: resultText(b.content, notes), isError: b.is_error === true, ts });
        } else if (b.type === 'text' && typeof b.text === 'string') texts.push(b.text);
        else if (b.type === 'image' || b.type === 'document') {
          notes.add('image', 'images (and documents) in messages and tool outputs: a text placeholder stands where each was');
          texts.push(IMAGE_PLACEHOLDER);
        }
      }
      flush();
      continue;
    }
    // assistant
    if (o.isApiErrorMessage === true) {
      notes.add('api-error', 'API error messages Claude Code wrote as assistant lines (the model never said them)');
      continue;
    }
    if (typeof m.model === 'string' && m.model !== '<synthetic>') model = m.model;
    const content = m.content;
    if (typeof content === 'string') {
      if (content.trim()) items.push({ type: 'text', role: 'assistant', text: content, ts });
      continue;
    }
    if (!Array.isArray(content)) continue;
    for (const b of content as Block[]) {
      if (!b || typeof b !== 'object') continue;
      if (b.type === 'text' && typeof b.text === 'string') {
        if (b.text.trim()) items.push({ type: 'text', role: 'assistant', text: b.text, ts });
      } else if (b.type === 'thinking' || b.type === 'redacted_thinking') {
        notes.add('thinking', "thinking blocks (Claude's extended thinking, signed for Anthropic's API): not carried");
      } else if (b.type === 'tool_use' || b.type === 'server_tool_use') {
        const name = typeof b.name === 'string' ? b.name : '?';
        items.push({ type: 'call', id: typeof b.id === 'string' ? b.id : '', name, input: b.input ?? null, shell: b.type === 'tool_use' ? claudeShell(name, b.input) : null, ts });
      } else if (typeof b.type === 'string') {
        notes.add('other-block', 'assistant content blocks of other kinds (e.g. server tool results): not carried', 1, b.type);
      }
    }
  }
  return { tool: 'claude', id, items, started, model, gitBranch: branch };
}
