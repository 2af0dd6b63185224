/**
 * `roam rm <session> [--force] [--dry-run] [--yes] [--json]`: deletes a session on every device.
 *
 * A delete made by a tool (Claude Code removes sessions older than 30 days on each machine) stays
 * on that machine; this one reaches every device of the group, now or when it next connects. The
 * session's files go with it (Claude Code: `<id>.jsonl` and the `<id>/` directory of sub-agents
 * and tool results; Copilot: its session directory; Codex and Gemini: the transcript and any
 * `<id>/` beside it), and each device keeps what it deleted in its trash for 30 days
 * (`roam restore`). A device that wrote lines the delete had not seen keeps the session: a
 * modification wins over a concurrent delete.
 *
 * Refused (ROAM_SESSION_BUSY) while the session is open here or another device holds it, unless
 * --force. On a terminal it asks first, unless --yes; never when stdin is not a terminal. A "no"
 * removes nothing and exits 1 with ROAM_DECLINED (not 2: the command line was right), as package
 * managers do when their prompt is declined (apt, dnf): `roam rm <id> && …` must not go on as if
 * the session were gone.
 */
import { createInterface } from 'node:readline/promises';
import { ErrorCodes, RoamError, isRoamError } from '@roam/core/errors';
import type { Io } from '../io.js';
import { call } from '../control/client.js';
import { roamPaths } from '../machine/paths.js';
import type { ParamsOf } from '../control/methods.js';
import type { RemoveResult } from '../control/results.js';
import { allAdapters, resolveSession } from '../sessions/index.js';
import { displayWire } from './helpers/wire-display.js';
import { wireProjects } from '../tools/registry.js';

export interface RmOptions {
  force?: boolean;
  dryRun?: boolean;
  yes?: boolean;
  json?: boolean;
}

export interface RmDeps {
  /** Whether to ask before deleting (default: stdin and stdout are terminals). */
  readonly interactive?: boolean;
  readonly confirm?: (question: string) => Promise<boolean>;
}

export async function rm(ref: string, opts: RmOptions, io: Io, deps: RmDeps = {}): Promise<void> {
  const socket = roamPaths().socket;
  // The session as the tools keep it here; one this device no longer holds (deleted here, or not
  // fetched) is looked up by roamd among the names its peers announced.
  let params: ParamsOf<'rm'> = { session: ref.trim() };
  try {
    const { adapter, session } = await resolveSession(allAdapters(), ref);
    params = { session: session.id, file: session.file, tool: adapter.tool };
  } catch (err) {
    if (!(isRoamError(err) && err.code === ErrorCodes.SESSION_NOT_FOUND)) throw err;
  }
  const force = opts.force === true;
  const interactive = deps.interactive ?? (!!process.stdin.isTTY && !!process.stdout.isTTY);
  if (!opts.dryRun && !opts.yes && interactive) {
    const preview = await call(socket, 'rm', { ...params, force, dryRun: true });
    // On stderr, like the question: stdout keeps only the result (JSON with --json).
    for (const line of describe(preview)) io.err(line);
    const ask = deps.confirm ?? confirm;
    if (!(await ask(`Delete session ${preview.session} on every device? [y/N] `))) throw new RoamError(ErrorCodes.DECLINED, `nothing removed: session ${preview.session} stays on every device (answer y to remove it, or pass --yes)`);
  }
  const r = await call(socket, 'rm', { ...params, force, dryRun: opts.dryRun === true });
  if (opts.json) {
    io.out(JSON.stringify(r, null, 2));
    return;
  }
  for (const line of describe(r)) io.out(line);
}

function describe(r: RemoveResult): string[] {
  const name = (n: string) => (wireProjects(r.folder) ? displayWire(n.split('/')[0]!) + n.slice(n.indexOf('/')) : n);
  const head = r.dryRun
    ? `would remove session ${r.session} (${r.folder}) on every device: ${r.items.length} file(s)`
    : `removed session ${r.session} (${r.folder}) on every device: ${r.items.filter((i) => i.removed).length} file(s); ${r.items.filter((i) => i.here).length} here went to the trash (roam restore ${r.session})`;
  // The session's state (Claude Code's file-history/, tasks/, plans/…) is named by its folder.
  return [head, ...r.items.map((i) => `  ${i.here ? 'here     ' : 'elsewhere'}  ${i.folder ? `${i.folder}: ${i.name}` : name(i.name)}`)];
}

async function confirm(question: string): Promise<boolean> {
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    return /^y(es)?$/i.test((await rl.question(question)).trim());
  } finally {
    rl.close();
  }
}
