/**
 * `roam conflicts [--json]`: what diverged and where each continuation went.
 *
 * A session log written on two devices while they were apart keeps its name for one continuation
 * (the same on every device) and the other continuation is kept beside it: a session of its own
 * (`<derived uuid>.jsonl`, whose lines start with the original's id) for Claude Code sessions,
 * `<name>.fork-<12 hex>.jsonl` for other logs in fork mode, or Syncthing's `<name>.sync-conflict-<date>-<time>-<device>.<ext>`
 * in a folder in `syncthing` conflict mode. Nothing is lost; this lists them with the lines each
 * holds and where the two part.
 */
import { existsSync } from 'node:fs';
import { open, readdir, readFile, stat } from 'node:fs/promises';
import { join, relative } from 'node:path';
import type { Io } from '../io.js';
import { call } from '../control/client.js';
import type { Status } from '../control/protocol.js';
import { folderList, readConfigFile } from '../machine/config.js';
import { roamPaths } from '../machine/paths.js';
import { SHARED_FOLDER } from '../daemon/shared.js';

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
const UUID_LOG = /^([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\.jsonl$/i;

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

export async function conflicts(opts: { json?: boolean }, io: Io, env: NodeJS.ProcessEnv = process.env): Promise<void> {
  const paths = roamPaths(env);
  let folders: ReadonlyArray<{ id: string; path: string }>;
  try {
    folders = (await call<Status>(paths.socket, 'status')).folders;
  } catch {
    folders = folderList(readConfigFile(paths.configFile), env);
  }
  const found = await findConflicts(folders);
  if (opts.json) {
    io.out(JSON.stringify(found, null, 2));
    return;
  }
  if (!found.length) {
    io.out('no conflicts: every session has one continuation');
    return;
  }
  for (const c of found) {
    const detail = c.commonLines !== null ? `: ${c.commonLines} line(s) in common, then ${c.originalLines! - c.commonLines} kept the name and ${c.copyLines! - c.commonLines} went to the copy` : '';
    const id = UUID_LOG.exec(c.copy.slice(c.copy.lastIndexOf('/') + 1))?.[1];
    io.out(`${c.folder}/${c.original}\n    ${c.kind === 'fork' ? 'fork' : 'Syncthing conflict copy'}: ${c.copy} (${c.copyModified})${detail}${id ? `\n    resume the other continuation: roam resume ${id}` : ''}`);
  }
}
