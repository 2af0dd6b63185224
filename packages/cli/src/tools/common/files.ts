/**
 * Finding an adapter's session files: the names in a directory, each turned into a FoundFile when
 * it names a regular file (the adapters' files() in cline-cli, continue, gemini, qwen and the
 * VS Code tasks share these).
 */
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { FoundFile } from './base.js';

/** What an adapter keeps of one name: the file it names and what it carries beside it. */
export interface Picked<E> {
  readonly file: string;
  readonly extra: E;
}

/** The names in `dir`, none when it cannot be read. */
function namesIn(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

/** The regular files that `pick` makes of the names in `dir` (null: not a session's name). */
export function filesIn<E>(dir: string, pick: (name: string) => Picked<E> | null): Array<FoundFile & E> {
  const out: Array<FoundFile & E> = [];
  for (const name of namesIn(dir)) {
    const p = pick(name);
    if (!p) continue;
    const st = statSync(p.file, { throwIfNoEntry: false });
    if (st?.isFile()) out.push({ file: p.file, size: st.size, mtimeMs: st.mtimeMs, ...p.extra });
  }
  return out;
}

/** `<root>/<key>/chats/<name>` for every key and each name `extra` accepts (null: not a session's name). */
export function chatFiles<E>(root: string, extra: (key: string, name: string) => E | null): Array<FoundFile & E> {
  return namesIn(root).flatMap((key) => {
    const chats = join(root, key, 'chats');
    return filesIn(chats, (name) => {
      const e = extra(key, name);
      return e === null ? null : { file: join(chats, name), extra: e };
    });
  });
}
