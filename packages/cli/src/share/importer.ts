/**
 * Where a verified bundle goes on this machine (`roam import`): the plan every tool's planner makes
 * (its folder's share.ts, tools/<tool>/share.ts, reached through tools/registry.ts), and writing it.
 *
 * Claude Code: `projects/<key of the current directory>/<id>.jsonl`, the bundle's `subagents/` and
 * `tool-results/` under `projects/<key>/<id>/`. The CLI resumes a session by its file name's UUID
 * (docs/CLAUDE-CODE.md §8), so when that id is taken here (a session with that id anywhere, or a
 * file by that name in the key's folder), the session is imported under a new random UUID, and
 * the `sessionId` of its lines is rewritten to it, as the CLI's own `--fork-session` does.
 *
 * Codex: a rollout under `$CODEX_HOME/sessions/` (tools/codex/share.ts; docs/CODEX.md).
 *
 * Gemini CLI: `tmp/<the current directory's slug>/chats/session-<now>-<id8>.jsonl`, the directory
 * registered under that slug afterwards (tools/gemini/share.ts; docs/GEMINI.md).
 *
 * Copilot CLI: `session-state/<id>/` with its cwd and git context set to the current directory
 * (tools/copilot/share.ts; docs/COPILOT.md).
 *
 * Nothing is ever overwritten: each file is written to a hidden temporary name and then linked to
 * its final name, which fails if that exists; the transcript comes last.
 */
import { linkSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, isAbsolute, join, relative, sep } from 'node:path';
import { ErrorCodes, RoamError } from '@roam/core/errors';
import type { ToolCommand, ToolName } from '../sessions/types.js';

export interface PlannedFile {
  readonly path: string;
  readonly bytes: Buffer;
}

export interface ImportPlan {
  readonly tool: ToolName;
  /** The id in the bundle. */
  readonly originalId: string;
  /** The id here (a new one when the original is taken). */
  readonly id: string;
  readonly renamed: boolean;
  /** The transcript's path here. */
  readonly transcript: string;
  /** Every file to write, the transcript last. */
  readonly files: readonly PlannedFile[];
  /** How to resume it here. */
  readonly command: ToolCommand;
  /** What is done once the files are written (Gemini: the project registered), and its description. */
  readonly after?: { readonly describe: string; readonly run: () => string[] };
  /** What the user should know (Gemini: the CLI's cleanup would delete this session). */
  readonly warnings?: readonly string[];
}

export const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * Rewrites the JSONL lines that contain `needle` and that `change` changes (it edits the parsed line
 * in place and says whether it did); other lines keep their bytes.
 */
export function rewriteLines(bytes: Buffer, needle: string, change: (o: Record<string, unknown>) => boolean): Buffer {
  const text = bytes.toString('utf8');
  if (!text.includes(needle)) return bytes;
  const out = text.split('\n').map((line) => {
    if (!line.includes(needle)) return line;
    try {
      const o = JSON.parse(line) as unknown;
      if (o && typeof o === 'object' && !Array.isArray(o) && change(o as Record<string, unknown>)) return JSON.stringify(o);
    } catch {
      // a line cut short: kept as it is
    }
    return line;
  });
  return Buffer.from(out.join('\n'), 'utf8');
}

/** Whether `p` is `base` or inside it. */
export function inside(p: string, base: string): boolean {
  const r = relative(base, p);
  return r === '' || (r !== '..' && !r.startsWith(`..${sep}`) && !isAbsolute(r));
}

/**
 * Writes the plan's files (none may exist already), then runs its `after` step; returns what that
 * did. On a failure, what this call wrote is removed.
 */
export function applyPlan(plan: ImportPlan): string[] {
  const written: string[] = [];
  try {
    for (const f of plan.files) {
      mkdirSync(dirname(f.path), { recursive: true });
      const tmp = join(dirname(f.path), `.${basename(f.path)}.roam-import-${process.pid}`);
      writeFileSync(tmp, f.bytes, { mode: 0o600 });
      try {
        linkSync(tmp, f.path); // fails when the name exists: nothing is overwritten
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'EEXIST') throw new RoamError(ErrorCodes.USAGE, `${f.path} exists already; not overwriting it`, { path: f.path });
        throw err;
      } finally {
        rmSync(tmp, { force: true });
      }
      written.push(f.path);
    }
    return plan.after ? plan.after.run() : [];
  } catch (err) {
    for (const p of written.reverse()) rmSync(p, { force: true });
    throw err;
  }
}
