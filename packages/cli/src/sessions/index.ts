/**
 * The session adapters, and what the commands share: which adapters a `--tool` means, and finding
 * a session by id or unique id prefix across them.
 */
import { statSync } from 'node:fs';
import { ErrorCodes, RoamError } from '@roam/core/errors';
import type { Io } from '../io.js';
import { ProjectPlaces, claudeKeyPath } from '../machine/project-identity.js';
import { allTools, toolNames, toolNamed, type AdapterOptions } from '../tools/registry.js';
import { ToolExit, runTool } from './exec.js';
import type { SessionAdapter, SessionInfo, ToolCommand } from './types.js';

export type { SessionAdapter, SessionInfo, ToolName } from './types.js';
import { realDir } from './paths.js';
export { realDir };

/** One adapter per tool roam reads (every tool of the registry, tools/registry.ts). */
export function allAdapters(opts: AdapterOptions = {}): SessionAdapter[] {
  return allTools().map((t) => t.adapter(opts));
}

/** The adapters of `--tool <t>` (all without it). A known tool without an adapter yet is a usage error. */
export function adaptersFor(tool: string | undefined, opts: AdapterOptions = {}): SessionAdapter[] {
  if (tool === undefined) return allAdapters(opts);
  const t = toolNamed(tool);
  if (!t) throw new RoamError(ErrorCodes.USAGE, `unknown tool: ${tool} (one of ${toolNames().join(', ')})`);
  return [t.adapter(opts)];
}

/**
 * The session whose id is `ref`, or whose id starts with `ref` when that is unique. None: ROAM_SESSION_NOT_FOUND;
 * several: ROAM_USAGE naming them.
 */
export async function resolveSession(adapters: readonly SessionAdapter[], ref: string): Promise<{ adapter: SessionAdapter; session: SessionInfo }> {
  const id = ref.trim();
  if (!id) throw new RoamError(ErrorCodes.USAGE, 'no session id given');
  for (const adapter of adapters) {
    const session = await adapter.find(id);
    if (session) return { adapter, session };
  }
  const matches = new Map<string, { adapter: SessionAdapter; session: SessionInfo }>();
  for (const adapter of adapters) {
    for (const session of await adapter.list()) {
      if (session.id.startsWith(id) && !matches.has(`${adapter.tool}:${session.id}`)) matches.set(`${adapter.tool}:${session.id}`, { adapter, session });
    }
  }
  const found = [...matches.values()];
  if (found.length === 1) return found[0]!;
  if (!found.length) throw new RoamError(ErrorCodes.SESSION_NOT_FOUND, `no session ${id}`, { id });
  const names = found.slice(0, 10).map((f) => `${f.session.id} (${f.adapter.tool}${f.session.title ? `: ${f.session.title.slice(0, 40)}` : ''})`);
  throw new RoamError(ErrorCodes.USAGE, `${found.length} sessions start with ${id}: ${names.join(', ')}${found.length > 10 ? ', …' : ''}`, { id, candidates: found.map((f) => f.session.id) });
}

/** What the session commands take from their surroundings; tests replace parts of it. */
export interface SessionContext {
  readonly env?: NodeJS.ProcessEnv;
  /** The current directory (default: process.cwd()). */
  readonly cwd?: string;
  /** Now, for relative times (default: Date.now()). */
  readonly now?: number;
}

/**
 * Where to run a tool for a session: this device's directory for the session's project (a Claude
 * Code session: its key's directory in roamd's table of names, `roam map` included; any session:
 * the place of its recorded directory, machine/project-identity.ts), else `fallback`. Never the
 * directory another device recorded, even where that path exists here too.
 */
export function sessionDir(session: SessionInfo, fallback: string, env: NodeJS.ProcessEnv = process.env): string {
  const here = realDir(fallback);
  const places = ProjectPlaces.forEnv(env);
  const tool = toolNamed(session.tool);
  if (tool?.wireProjects) {
    if (session.projectKey === tool.adapter({ env }).projectKey(here)) return here;
    const path = claudeKeyPath(env, session.projectKey);
    if (path && statSync(path, { throwIfNoEntry: false })?.isDirectory()) return realDir(path);
  }
  if (places.belongs(session.projectKey, here) || places.belongs(session.cwd, here)) return here;
  for (const p of [session.cwd, session.projectKey]) {
    const dir = p ? places.dirOf(p) : null;
    if (dir) return dir;
  }
  return fallback;
}

/**
 * `--dry-run`: prints `{"cwd", "command"}` as JSON. Otherwise runs the command with the terminal and
 * throws ToolExit when the tool exits non-zero, so that roam exits with its code.
 */
export async function runOrPrint(cmd: ToolCommand, dryRun: boolean | undefined, io: Io, env: NodeJS.ProcessEnv, cwd: string): Promise<void> {
  const dir = cmd.cwd ?? cwd;
  if (dryRun) {
    io.out(JSON.stringify({ cwd: dir, command: cmd.argv }, null, 2));
    return;
  }
  const code = await runTool(cmd.argv, { cwd: dir, env });
  if (code !== 0) throw new ToolExit(code);
}

/** "3 min ago", "2 d ago". */
export function relativeTime(ms: number, now = Date.now()): string {
  const s = Math.max(0, Math.round((now - ms) / 1000));
  if (s < 60) return `${s} s ago`;
  if (s < 3600) return `${Math.round(s / 60)} min ago`;
  if (s < 86400) return `${Math.round(s / 3600)} h ago`;
  if (s < 86400 * 60) return `${Math.round(s / 86400)} d ago`;
  return new Date(ms).toISOString().slice(0, 10);
}

/** A positive whole number, for `--limit` (0: no limit). */
export function count(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new RoamError(ErrorCodes.USAGE, `not a count: ${value}`);
  return n;
}
