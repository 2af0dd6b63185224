/**
 * Which session a changed file belongs to, by its name in a tool's folder: roamd leases a session
 * while its log grows (shared.ts), for every tool. Only the transcript counts (a sub-agent's or a
 * tool result's file is not the session's own log); each tool says which names are its logs
 * (`sessionOfItem` of tools/<tool>/index.ts, through tools/registry.ts). Gemini CLI's names hold
 * only part of the id: the full id is in the file's first line (firstLineSessionId).
 */
import { closeSync, openSync, readSync } from 'node:fs';
import { toolNamed, type ItemSession } from '../tools/registry.js';

export type { ItemSession } from '../tools/registry.js';

/** How much of a file's first line is read for its id. */
const HEAD_BYTES = 16 * 1024;

/** The first line's `sessionId` of a file (Gemini's metadata record), or null. */
export function firstLineSessionId(file: string): string | null {
  let fd: number | undefined;
  try {
    fd = openSync(file, 'r');
    const buf = Buffer.alloc(HEAD_BYTES);
    const n = readSync(fd, buf, 0, HEAD_BYTES, 0);
    const text = buf.toString('utf8', 0, n);
    const nl = text.indexOf('\n');
    const o = JSON.parse(nl < 0 ? text : text.slice(0, nl)) as unknown;
    const id = typeof o === 'object' && o !== null ? (o as { sessionId?: unknown }).sessionId : undefined;
    return typeof id === 'string' && id.length > 0 && id.length <= 200 ? id : null;
  } catch {
    return null;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/**
 * firstLineSessionId remembered by file (a session's id never changes), so that a Gemini session
 * growing line by line costs one read of its head, not one per line. Only ids found are kept.
 */
export function rememberedHeadIds(max = 10_000): (file: string) => string | null {
  const known = new Map<string, string>();
  return (file) => {
    const hit = known.get(file);
    if (hit !== undefined) return hit;
    const id = firstLineSessionId(file);
    if (id !== null) {
      if (known.size >= max) known.clear();
      known.set(file, id);
    }
    return id;
  };
}

/** The session of item `name` in folder `folder` (rooted at `root`), or null for any other file. */
export function sessionOfItem(folder: string, root: string, name: string, headId: (file: string) => string | null = firstLineSessionId): ItemSession | null {
  return toolNamed(folder)?.sessionOfItem(name, root, headId) ?? null;
}
