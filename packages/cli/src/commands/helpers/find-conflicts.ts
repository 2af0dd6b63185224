/** The conflicts and forks in the synced folders, found by name (`roam conflicts`, `roam doctor`). */
import { existsSync } from 'node:fs';
import { open, readdir, readFile, stat } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { SHARED_FOLDER } from '../../machine/leases.js';

export interface Conflict {
  readonly folder: string;
  readonly kind: 'fork' | 'sync-conflict';
  /** The item that kept the name. */
  readonly original: string;
  /** Where the other continuation went. */
  readonly copy: string;
  readonly originalLines: number | null;
  readonly copyLines: number | null;
  /** Lines both continuations share (logs only). */
  readonly commonLines: number | null;
  readonly copyModified: string;
}

const FORK = /^(.*)\.fork-[0-9a-f]{12}(\.[^./]+)$/;
export const UUID_LOG = /^([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\.jsonl$/i;

/**
 * A session fork (see forkUuid in the core): `<uuid>.jsonl` whose lines start with another
 * session's id, that session's log beside it. Returns the original's file name, or null.
 */
async function forkOf(dir: string, name: string): Promise<string | null> {
  const m = UUID_LOG.exec(name);
  if (!m) return null;
  let head: Buffer;
  try {
    const fh = await open(join(dir, name), 'r');
    try {
      const buf = Buffer.alloc(64 * 1024);
      const { bytesRead } = await fh.read(buf, 0, buf.length, 0);
      head = buf.subarray(0, bytesRead);
    } finally {
      await fh.close();
    }
  } catch {
    return null;
  }
  const sid = /"sessionId":"([0-9a-f-]{36})"/i.exec(head.toString('utf8'))?.[1];
  if (!sid || sid.toLowerCase() === m[1]!.toLowerCase()) return null;
  return existsSync(join(dir, `${sid}.jsonl`)) ? `${sid}.jsonl` : null;
}
const SYNC_CONFLICT = /^(.*)\.sync-conflict-\d{8}-\d{6}-[A-Z0-9]{7}(\.[^./]*)?$/;

/** Conflict copies under `dir`: [copy, original] relative to root. */
async function walk(root: string, dir: string, out: Array<[string, string]>, depth = 0): Promise<void> {
  if (depth > 12) return;
  for (const e of await readdir(dir, { withFileTypes: true }).catch(() => [])) {
    const p = join(dir, e.name);
    const rel = relative(root, dir);
    const at = (n: string) => (rel ? `${rel}/${n}` : n);
    if (e.isDirectory()) await walk(root, p, out, depth + 1);
    else if (!e.isFile()) continue;
    else {
      const m = FORK.exec(e.name) ?? SYNC_CONFLICT.exec(e.name);
      if (m) out.push([at(e.name), at(`${m[1]}${m[2] ?? ''}`)]);
      else {
        const original = await forkOf(dir, e.name);
        if (original) out.push([at(e.name), at(original)]);
      }
    }
  }
}

function lines(buf: Buffer | null): string[] | null {
  if (!buf) return null;
  const all = buf.toString('utf8').split('\n');
  all.pop();
  return all;
}

export async function findConflicts(folders: ReadonlyArray<{ id: string; path: string }>): Promise<Conflict[]> {
  const out: Conflict[] = [];
  for (const f of folders) {
    if (f.id === SHARED_FOLDER) continue;
    const found: Array<[string, string]> = [];
    await walk(f.path, f.path, found);
    for (const [copy, original] of found.sort(([a], [b]) => (a < b ? -1 : 1))) {
      const base = copy.slice(copy.lastIndexOf('/') + 1);
      const isLog = copy.endsWith('.jsonl');
      const [a, b, st] = await Promise.all([
        isLog ? readFile(join(f.path, original)).catch(() => null) : Promise.resolve(null),
        isLog ? readFile(join(f.path, copy)).catch(() => null) : Promise.resolve(null),
        stat(join(f.path, copy)),
      ]);
      const [la, lb] = [lines(a), lines(b)];
      let common: number | null = null;
      if (la && lb) {
        common = 0;
        while (common < la.length && common < lb.length && la[common] === lb[common]) common++;
      }
      out.push({
        folder: f.id, kind: SYNC_CONFLICT.test(base) ? 'sync-conflict' : 'fork', original, copy,
        originalLines: la?.length ?? null, copyLines: lb?.length ?? null, commonLines: common,
        copyModified: new Date(st.mtimeMs).toISOString(),
      });
    }
  }
  return out;
}
