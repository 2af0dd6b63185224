/** Codex's conversion format (convert/format.ts): its source, its target and where a converted session lives. */
import { join } from 'node:path';
import { ErrorCodes, RoamError } from '@roam/core/errors';
import type { Format } from '../../convert/format.js';
import type { CodexAdapter } from './adapter.js';
import { historyBase } from './rollout.js';
import { fromCodex } from './source.js';
import { toCodex } from './target.js';

/** `YYYY/MM/DD` and `YYYY-MM-DDThh-mm-ss` of a rollout, in local time as Codex writes them. */
export function rolloutTime(d: Date): { dir: string[]; stamp: string } {
  const p = (n: number) => String(n).padStart(2, '0');
  const [y, mo, da] = [String(d.getFullYear()), p(d.getMonth() + 1), p(d.getDate())];
  return { dir: [y, mo, da], stamp: `${y}-${mo}-${da}T${p(d.getHours())}-${p(d.getMinutes())}-${p(d.getSeconds())}` };
}

export const codexFormat: Format<CodexAdapter> = {
  read: fromCodex,
  write: toCodex,
  transcriptPath(target, id, _dir, started) {
    let d = new Date(started);
    if (!Number.isFinite(d.getTime())) d = new Date(0);
    const t = rolloutTime(d);
    return join(target.root(), 'sessions', ...t.dir, `rollout-${t.stamp}-${id}.jsonl`);
  },
  /** The rollout decompressed, behind the history a fork inherits from its parent (`history_base`). */
  async source(adapter, session) {
    const read = (file: string) => adapter.readRollout(file);
    const parts: Buffer[] = [read(session.file)];
    for (let depth = 0; depth < 16; depth++) {
      const base = historyBase(parts[0]!.toString('utf8', 0, Math.min(parts[0]!.length, 1024 * 1024)));
      if (!base) break;
      const parent = await adapter.find(base.threadId);
      if (!parent) {
        throw new RoamError(ErrorCodes.SESSION_UNREADABLE, `Codex session ${session.id} is a fork of ${base.threadId}, whose rollout (the history before the fork) is not on this machine`, { id: session.id, parent: base.threadId });
      }
      const bytes = read(parent.file);
      parts.unshift(base.endByteOffset === null ? bytes : bytes.subarray(0, base.endByteOffset));
    }
    return Buffer.concat(parts);
  },
  /**
   * Codex's non-interactive form is `codex exec resume <id> [options] [prompt]`: arguments that
   * start with `exec` (`roam resume <id> --in codex -- exec --skip-git-repo-check "go on"`) give
   * that form; others follow `codex resume <id>`.
   */
  resumeArgv(argv, toolArgs) {
    if (toolArgs[0] === 'exec' && argv[1] === 'resume') return [argv[0]!, 'exec', ...argv.slice(1), ...toolArgs.slice(1)];
    return [...argv, ...toolArgs];
  },
};

