/**
 * roam's trash as roamd and the verbs both read it: what `roam restore --list` shows (TrashView, control/results.ts),
 * the short id of an entry, the session an item belongs to, and the trash of each folder read
 * straight from the state directory (`<state>/folders/<id>/trash/<stamp>/<name>`, as the folder
 * store keeps it), for when roamd is not running.
 */
import { createHash } from 'node:crypto';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { trashStampTime } from '@roam/core/node';

/** How long the trash keeps what roam removed or replaced (roamd expires older entries). */
export const TRASH_DAYS = 30;

export function trashId(folder: string, e: { readonly entry: string }): string {
  return createHash('sha256').update(`${folder}\u0000${e.entry}`).digest('hex').slice(0, 10);
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * The session an item belongs to, from its name: Claude Code `<project>/<id>.jsonl` and
 * `<project>/<id>/…`, Codex `…/rollout-<time>-<id>.jsonl`, Copilot `<id>/…`, Claude Code's state
 * folders' `<id>/…` and `<id>….json`. Null otherwise.
 */
export function sessionIdOfItem(folder: string, name: string): string | null {
  const parts = name.split('/');
  if (folder === 'claude') {
    const c = parts[1]?.replace(/\.jsonl$/, '');
    return c && UUID.test(c) ? c : null;
  }
  if (folder === 'copilot') return parts.length > 1 && UUID.test(parts[0]!) ? parts[0]! : null;
  // Claude Code's state folders: `<id>/…` (file-history, tasks, session-env), `<id>[-agent-…].json` (todos).
  if (folder.startsWith('claude-')) {
    if (parts.length > 1) return UUID.test(parts[0]!) ? parts[0]! : null;
    const t = /^([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})(?:-agent-.*)?\.json$/i.exec(parts[0]!);
    return t ? t[1]! : null;
  }
  const m = /-([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\.jsonl$/i.exec(parts[parts.length - 1]!);
  return m ? m[1]! : null;
}

/** One folder's trash read from disk, as the folder store lists it (entry, local name, time, size). */
export function readTrash(stateDir: string): Array<{ entry: string; name: string; deletedAt: number; size: number }> {
  const root = join(stateDir, 'trash');
  const out: Array<{ entry: string; name: string; deletedAt: number; size: number }> = [];
  const list = (dir: string) => {
    try {
      return readdirSync(dir, { withFileTypes: true });
    } catch {
      return [];
    }
  };
  for (const stamp of list(root)) {
    const deletedAt = trashStampTime(stamp.name);
    if (deletedAt === null || !stamp.isDirectory()) continue;
    const walk = (rel: string) => {
      for (const d of list(join(root, stamp.name, ...rel.split('/').filter(Boolean)))) {
        const name = rel ? `${rel}/${d.name}` : d.name;
        if (d.isDirectory()) walk(name);
        else if (d.isFile()) out.push({ entry: `${stamp.name}/${name}`, name, deletedAt, size: statSync(join(root, stamp.name, ...name.split('/'))).size });
      }
    };
    walk('');
  }
  return out.sort((a, b) => b.deletedAt - a.deletedAt || (a.entry < b.entry ? -1 : a.entry > b.entry ? 1 : 0));
}
