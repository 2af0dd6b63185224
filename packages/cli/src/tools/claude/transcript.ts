/**
 * A Claude Code transcript as the tool replays it. The lines form a tree through `uuid` /
 * `parentUuid`; the current leaf is the last user or assistant line of the main chain (not a side
 * chain) by position in the file; the conversation is the path from the root to that leaf. A rewind
 * leaves the abandoned branch in the file, off that path. A compaction starts a new root (its
 * boundary line has no parent), so the conversation starts there, as the tool sees it.
 *
 * The file is read in chunks: the first pass keeps only each line's uuid, parent and position, the
 * second reads and parses just the lines on the path.
 */
import { closeSync, openSync, readSync } from 'node:fs';
import { NL, parseLine, readFully, fsRead } from '../../sessions/lines.js';
import type { ToolResult, ToolUse, TranscriptEntry } from '../../sessions/types.js';

const CHUNK = 1024 * 1024;

interface Node {
  parent: string | null;
  off: number;
  len: number;
  message: boolean;
}

export function readTranscript(file: string): TranscriptEntry[] {
  const fd = openSync(file, 'r');
  try {
    const nodes = new Map<string, Node>();
    let leaf: string | null = null;
    let buf = Buffer.allocUnsafe(CHUNK);
    let carry = 0;
    let base = 0; // file offset of buf[0]
    for (;;) {
      if (carry === buf.length) {
        const bigger = Buffer.allocUnsafe(buf.length * 2);
        buf.copy(bigger, 0, 0, carry);
        buf = bigger;
      }
      const n = readSync(fd, buf, carry, buf.length - carry, base + carry);
      if (n === 0) break;
      const len = carry + n;
      let s = 0;
      for (let e = buf.indexOf(NL, s); e >= 0 && e < len; e = buf.indexOf(NL, s)) {
        const o = parseLine(buf, s, e);
        if (o && typeof o.uuid === 'string') {
          const message = (o.type === 'user' || o.type === 'assistant') && typeof o.message === 'object' && o.message !== null;
          nodes.set(o.uuid, { parent: typeof o.parentUuid === 'string' ? o.parentUuid : null, off: base + s, len: e - s, message });
          if (message && o.isSidechain !== true) leaf = o.uuid;
        }
        s = e + 1;
      }
      buf.copy(buf, 0, s, len);
      base += s;
      carry = len - s;
    }
    const path: Node[] = [];
    const seen = new Set<string>();
    for (let u = leaf; u !== null && !seen.has(u); ) {
      seen.add(u);
      const node = nodes.get(u);
      if (!node) break;
      path.push(node);
      u = node.parent;
    }
    path.reverse();
    const entries: TranscriptEntry[] = [];
    for (const node of path) {
      if (!node.message) continue;
      const line = Buffer.allocUnsafe(node.len);
      readFully(fsRead, fd, line, 0, node.len, node.off);
      const o = parseLine(line, 0, line.length);
      const entry = o && toEntry(o);
      if (entry) entries.push(entry);
    }
    return entries;
  } finally {
    closeSync(fd);
  }
}

type Block = { type?: unknown; text?: unknown; id?: unknown; name?: unknown; input?: unknown; tool_use_id?: unknown; content?: unknown; is_error?: unknown };

export function toEntry(o: Record<string, unknown>): TranscriptEntry | null {
  if (o.type !== 'user' && o.type !== 'assistant') return null;
  const m = o.message as { content?: unknown } | null | undefined;
  const texts: string[] = [];
  const toolUses: ToolUse[] = [];
  const toolResults: ToolResult[] = [];
  const content = m?.content;
  if (typeof content === 'string') texts.push(content);
  else if (Array.isArray(content)) {
    for (const b of content as Block[]) {
      if (!b || typeof b !== 'object') continue;
      if (b.type === 'text' && typeof b.text === 'string') texts.push(b.text);
      else if (b.type === 'image') texts.push('[image]');
      else if (b.type === 'tool_use') toolUses.push({ id: typeof b.id === 'string' ? b.id : null, name: typeof b.name === 'string' ? b.name : '?', input: b.input ?? null });
      else if (b.type === 'tool_result') {
        toolResults.push({ toolUseId: typeof b.tool_use_id === 'string' ? b.tool_use_id : null, text: resultText(b.content), isError: b.is_error === true });
      }
    }
  }
  return {
    role: o.type,
    uuid: typeof o.uuid === 'string' ? o.uuid : null,
    timestamp: typeof o.timestamp === 'string' ? o.timestamp : null,
    text: texts.join('\n\n'),
    toolUses,
    toolResults,
    ...(o.isMeta === true ? { meta: true } : {}),
  };
}

function resultText(c: unknown): string {
  if (typeof c === 'string') return c;
  if (!Array.isArray(c)) return c === undefined || c === null ? '' : JSON.stringify(c);
  return (c as Block[])
    .map((b) => (b && b.type === 'text' && typeof b.text === 'string' ? b.text : b && b.type === 'image' ? '[image]' : ''))
    .filter(Boolean)
    .join('\n');
}
