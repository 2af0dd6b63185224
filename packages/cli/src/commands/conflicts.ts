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
import type { Io } from '../io.js';
import { call } from '../control/client.js';
import { folderList, readConfigFile } from '../machine/config.js';
import { roamPaths } from '../machine/paths.js';

import { UUID_LOG, findConflicts } from './helpers/find-conflicts.js';

export async function conflicts(opts: { json?: boolean }, io: Io, env: NodeJS.ProcessEnv = process.env): Promise<void> {
  const paths = roamPaths(env);
  let folders: ReadonlyArray<{ id: string; path: string }>;
  try {
    folders = (await call(paths.socket, 'status')).folders;
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
