/** `roam import` of a Copilot CLI bundle: `session-state/<id>/`, made the current directory's (docs/COPILOT.md). */
import { randomUUID } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { ErrorCodes, RoamError } from '@roam/core/errors';
import type { SessionAdapter } from '../../sessions/types.js';
import { SESSION_FILE, type Bundle } from '../../share/bundle.js';
import { UUID, inside, rewriteLines, type ImportPlan, type PlannedFile } from '../../share/importer.js';
import { yamlScalar } from './events.js';

export interface CopilotTarget {
  /** `<root>/session-state`. */
  stateDir(): string;
  find: SessionAdapter['find'];
  resumeCommand: SessionAdapter['resumeCommand'];
}

/** The git work tree `dir` is in, and its branch (from HEAD), read from disk; null outside one. */
export function gitContext(dir: string): { root: string; branch: string | null } | null {
  for (let d = resolve(dir); ; d = dirname(d)) {
    const dotGit = join(d, '.git');
    const st = statSync(dotGit, { throwIfNoEntry: false });
    if (st) {
      let gitDir = dotGit;
      let branch: string | null = null;
      try {
        if (st.isFile()) {
          const m = /^gitdir:\s*(.+)$/m.exec(readFileSync(dotGit, 'utf8'));
          if (m) gitDir = resolve(d, m[1]!.trim());
        }
        branch = /^ref: refs\/heads\/(.+)$/m.exec(readFileSync(join(gitDir, 'HEAD'), 'utf8'))?.[1]?.trim() ?? null;
      } catch {
        // no HEAD to read: no branch
      }
      return { root: d, branch };
    }
    if (dirname(d) === d) return null;
  }
}

/** A recorded working-directory context made this directory's; says whether it changed. */
function hereContext(ctx: Record<string, unknown>, cwd: string, git: { root: string; branch: string | null } | null): boolean {
  const before = JSON.stringify(ctx);
  ctx.cwd = cwd;
  // The source machine's repository: the CLI derives these again where it runs.
  for (const k of ['repository', 'hostType', 'repositoryHost', 'headCommit', 'baseCommit']) delete ctx[k];
  if (git) ctx.gitRoot = git.root;
  else delete ctx.gitRoot;
  if (git?.branch) ctx.branch = git.branch;
  else delete ctx.branch;
  return JSON.stringify(ctx) !== before;
}

/** Every `sessionId` equal to `from`, at any depth, becomes `to`; says whether one did. */
function reIdDeep(v: unknown, from: string, to: string): boolean {
  if (!v || typeof v !== 'object') return false;
  let changed = false;
  for (const [k, x] of Object.entries(v as Record<string, unknown>)) {
    if (k === 'sessionId' && x === from) ((v as Record<string, unknown>)[k] = to), (changed = true);
    else if (x && typeof x === 'object') changed = reIdDeep(x, from, to) || changed;
  }
  return changed;
}

/**
 * A workspace.yaml made this directory's: `id`, `cwd`, `git_root`, `branch` set (added when
 * missing; the git ones removed outside a work tree), the source's `repository` and `host_type`
 * and its remote-session ties (`remote_steerable`, `mc_*`, which the CLI's own fork drops too)
 * removed; every other line kept.
 */
export function hereWorkspace(text: string, id: string, cwd: string, git: { root: string; branch: string | null } | null): string {
  const set: Record<string, string | null> = {
    id, cwd: yamlScalar(cwd), git_root: git ? yamlScalar(git.root) : null, branch: git?.branch ? yamlScalar(git.branch) : null,
    repository: null, host_type: null, remote_steerable: null, mc_task_id: null, mc_session_id: null, mc_last_event_id: null,
  };
  const done = new Set<string>();
  const out: string[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const m = /^([A-Za-z_][\w-]*):/.exec(lines[i]!);
    if (!m || !(m[1]! in set)) {
      out.push(lines[i]!);
      continue;
    }
    // A key's value may go on over indented lines: they go with it.
    while (i + 1 < lines.length && /^\s+\S/.test(lines[i + 1]!)) i++;
    const v = set[m[1]!];
    if (v !== null && v !== undefined && !done.has(m[1]!)) out.push(`${m[1]}: ${v}`);
    done.add(m[1]!);
  }
  const missing = ['id', 'cwd', 'git_root', 'branch'].filter((k) => !done.has(k) && set[k] !== null).map((k) => `${k}: ${set[k]}`);
  if (missing.length) {
    while (out.length && out[out.length - 1] === '') out.pop();
    out.push(...missing, '');
  }
  return out.join('\n');
}

/**
 * The plan of a Copilot CLI bundle: the session directory `session-state/<id>/` (events.jsonl,
 * written last, and the bundle's workspace.yaml, plan.md, checkpoints/, files/, research/). The
 * CLI resumes a session by its directory's name and keeps a recorded cwd that exists
 * (docs/COPILOT.md), so the working-directory context of `session.start`, `session.resume` and
 * `session.context_changed` and workspace.yaml's `cwd`/`git_root`/`branch` are set to `cwd` (and
 * its git work tree, if any). When the id is taken here (a session directory by that name) the
 * session gets a new UUID, as the CLI's own fork does it: the directory, `session.start`'s
 * `sessionId` (every `sessionId` of the source's id, in fact), workspace.yaml's `id`, and each
 * `checkpointPath` into the old directory.
 */
export async function planCopilot(bundle: Bundle, adapter: CopilotTarget, cwd: string, newId: () => string = randomUUID): Promise<ImportPlan> {
  const original = bundle.manifest.sessionId;
  const raw = bundle.files.get(SESSION_FILE);
  if (!raw) throw new RoamError(ErrorCodes.BUNDLE_INVALID, `bundle holds no ${SESSION_FILE}`);
  for (const name of bundle.files.keys()) {
    if (name !== SESSION_FILE && name !== 'workspace.yaml' && name !== 'plan.md' && !/^(checkpoints|files|research)\//.test(name)) {
      throw new RoamError(ErrorCodes.BUNDLE_INVALID, `a Copilot CLI bundle holds ${SESSION_FILE}, workspace.yaml, plan.md, checkpoints/, files/ and research/, not ${name}`, { name });
    }
  }
  const state = adapter.stateDir();
  const taken = async (id: string): Promise<boolean> => existsSync(join(state, id)) || (await adapter.find(id)) !== null;
  let id = original;
  if (!UUID.test(original) || (await taken(original))) {
    do id = newId();
    while (await taken(id));
  }
  const renamed = id !== original;
  const dir = join(state, id);
  const key = resolve(cwd);
  const git = gitContext(key);
  const oldDir = `/session-state/${original}/`;
  const events = rewriteLines(raw, '"type"', (o) => {
    let changed = false;
    const data = o.data as Record<string, unknown> | undefined;
    if (!data || typeof data !== 'object' || Array.isArray(data)) return false;
    if (renamed) changed = reIdDeep(data, original, id) || changed;
    if ((o.type === 'session.start' || o.type === 'session.resume') && data.context && typeof data.context === 'object') {
      changed = hereContext(data.context as Record<string, unknown>, key, git) || changed;
    } else if (o.type === 'session.context_changed' && typeof data.cwd === 'string') changed = hereContext(data, key, git) || changed;
    if (typeof data.checkpointPath === 'string') {
      const at = data.checkpointPath.lastIndexOf(oldDir);
      if (at >= 0) {
        const p = join(dir, data.checkpointPath.slice(at + oldDir.length));
        if (p !== data.checkpointPath) (data.checkpointPath = p), (changed = true);
      }
    }
    return changed;
  });
  const files: PlannedFile[] = [];
  for (const [name, b] of bundle.files) {
    if (name === SESSION_FILE) continue;
    const path = join(dir, ...name.split('/'));
    if (!inside(path, dir)) throw new RoamError(ErrorCodes.PATH_ESCAPE, `${name} would be written outside ${dir}`, { name });
    files.push({ path, bytes: name === 'workspace.yaml' ? Buffer.from(hereWorkspace(b.toString('utf8'), id, key, git), 'utf8') : b });
  }
  const transcript = join(dir, 'events.jsonl');
  files.push({ path: transcript, bytes: events });
  return { tool: 'copilot', originalId: original, id, renamed, transcript, files, command: adapter.resumeCommand(id, { cwd: key }) };
}
