/**
 * The tools roam knows, one folder each (tools/<tool>/): the one list that the verbs, convert/,
 * share/, the daemon's folders (machine/config.ts) and its activity (daemon/activity.ts) read.
 * Adding a tool: a new folder whose index.ts exports its Tool (types.ts), and one line below.
 */
import { ErrorCodes, RoamError } from '@roam/core/errors';
import { claude } from './claude/index.js';
import { codex } from './codex/index.js';
import { copilot } from './copilot/index.js';
import { crush } from './crush/index.js';
import { cursor } from './cursor/index.js';
import { gemini } from './gemini/index.js';
import { qwen } from './qwen/index.js';
import { cline } from './cline/index.js';
import { clineCli } from './cline-cli/index.js';
import { continueCli } from './continue/index.js';
import { roo } from './roo/index.js';
import { kilocode } from './kilocode/index.js';
import { aider } from './aider/index.js';
import { kilo } from './kilo/index.js';
import { opencode } from './opencode/index.js';
import type { StateFolder, Tool, UnionLogSpec } from './types.js';

export type { AdapterOptions, ItemSession, StateFolder, Tool, ToolAbout, ToolCapability, UnionLogSpec } from './types.js';

const tools: Tool[] = [
  claude,
  codex,
  gemini,
  copilot,
  qwen,
  opencode,
  kilo,
  clineCli,
  continueCli,
  cline,
  roo,
  kilocode,
  crush,
  cursor,
  aider,
];

/**
 * Adds a tool after those above (a tool kept outside this tree: tests, embedders). Its name must be
 * new. Returns what takes it out again.
 */
export function registerTool(tool: Tool): () => void {
  if (!/^[a-z][a-z0-9-]{0,31}$/.test(tool.name)) throw new RoamError(ErrorCodes.USAGE, `not a tool name: ${tool.name}`);
  if (toolNamed(tool.name)) throw new RoamError(ErrorCodes.USAGE, `a tool named ${tool.name} is registered already`);
  tools.push(tool);
  return () => {
    const i = tools.indexOf(tool);
    if (i >= 0) tools.splice(i, 1);
  };
}

/** Every tool, in the order `roam list` reads them. */
export function allTools(): readonly Tool[] {
  return tools;
}

export function toolNames(): string[] {
  return tools.map((t) => t.name);
}

export function toolNamed(name: string): Tool | undefined {
  return tools.find((t) => t.name === name);
}

/** Whether folder `id` is a tool's whose projects roamd names on the wire (Tool.wireProjects: Claude Code). */
export function wireProjects(id: string): boolean {
  return toolNamed(id)?.wireProjects === true;
}

/** A tool's name in messages ("Claude Code"), or the name itself. */
export function toolLabel(name: string): string {
  return toolNamed(name)?.label ?? name;
}

/** Every tool's union logs (their prompt histories), each with its own folder id. */
export function allUnionLogs(): readonly UnionLogSpec[] {
  return tools.flatMap((t) => t.unionLogs ?? []);
}

/** The union log whose folder id is `id`, if any. */
export function unionLogNamed(id: string): UnionLogSpec | undefined {
  return allUnionLogs().find((u) => u.id === id);
}

/** Every tool's per-session state folders on this device, with the tool each belongs to. */
export function stateFolders(env: NodeJS.ProcessEnv): Array<StateFolder & { readonly tool: string }> {
  return tools.flatMap((t) => (t.stateFolders?.(env) ?? []).map((f) => ({ ...f, tool: t.name })));
}

/** The state folder `id` is, on this device, or undefined. */
export function stateFolderNamed(id: string, env: NodeJS.ProcessEnv): (StateFolder & { readonly tool: string }) | undefined {
  return stateFolders(env).find((f) => f.id === id);
}
