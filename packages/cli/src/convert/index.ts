/**
 * `roam resume <id> --in <tool>`: a session of one tool converted into a real session of another
 * (each tool whose folder has a format, tools/<tool>/format.ts, to and from every other), registered where that tool looks
 * for it, then resumed there. The mapping and what each direction drops: docs/CONVERT.md.
 *
 *   convertText     the pure conversion of a session's text (what the unit tests drive)
 *   planConversion  reads the source, picks the new id and path, and finds an identical earlier
 *                   conversion to reuse
 *   applyConversion writes it (importer.ts's applyPlan: temporary files linked into place, nothing
 *                   overwritten) and registers it in the target's own index where it has one
 *   resumeIn        what `roam resume --in` runs: plan, report what was dropped on stderr, write,
 *                   exec the target tool's resume (or print it all with --dry-run)
 *
 * The new id is derived from the source (tool, id, bytes), the target tool and the directory
 * (ids.ts), so converting the same session again lands on the same id. When a session with that id
 * exists: the same bytes, it is reused as it is; other bytes (the conversion was resumed since, and
 * grew), the next derived id is tried. The source session is only read.
 */
import { existsSync, readFileSync } from 'node:fs';
import { ErrorCodes, RoamError } from '@roam/core/errors';
import type { Io } from '../io.js';
import { call } from '../control/client.js';
import { ToolExit, runTool, whichTool } from '../sessions/exec.js';
import { realDir, sessionDir } from '../sessions/index.js';
import type { SessionAdapter, SessionInfo, ToolName } from '../sessions/types.js';
import { applyPlan } from '../share/importer.js';
import { allTools, toolLabel, toolNamed } from '../tools/registry.js';
import type { Format, TargetFile } from './format.js';
import { convertedId, sha256Hex } from './ids.js';
import { Notes, type Conversation, type Dropped } from './ir.js';

export type { Dropped } from './ir.js';
export { rolloutTime } from '../tools/codex/format.js';

/** The tools roam converts between now (those of the registry with a format). */
export function convertibleTools(): ToolName[] {
  return allTools().flatMap((t) => (t.format ? [t.name] : []));
}

/** The tools roam converts between, as roam has them built in. */
export const CONVERTIBLE: readonly ToolName[] = convertibleTools();
export type ConvertibleTool = ToolName;

export function isConvertible(tool: string): tool is ConvertibleTool {
  return toolNamed(tool)?.format !== undefined;
}

/** "a, b and c". */
function andList(xs: readonly string[]): string {
  return xs.length < 2 ? xs.join('') : `${xs.slice(0, -1).join(', ')} and ${xs[xs.length - 1]}`;
}

function format(tool: string, what: string): Format {
  const f = toolNamed(tool)?.format;
  if (!f) {
    const others = allTools().flatMap((t) => (t.format ? [] : [t.name]));
    throw new RoamError(ErrorCodes.USAGE, `${what} ${tool}: roam converts sessions between ${andList(convertibleTools())} only${others.length ? ` (${andList(others)} not yet)` : ''}`, { tool });
  }
  return f;
}

/** A session's conversation, read from its text. */
export function readConversation(tool: ConvertibleTool, id: string, text: string, notes: Notes): Conversation {
  return format(tool, 'a session of').read(text, id, notes);
}

export interface ConvertTextOptions {
  /** The new session's id. */
  readonly id: string;
  /** The directory it is registered under (real path). */
  readonly cwd: string;
  /** Timestamp for lines that have none (default: the epoch). */
  readonly fallbackTime?: string;
}

/** Writes a conversation in the target's format (its transcript's text). */
export function writeConversation(conv: Conversation, target: ConvertibleTool, opts: ConvertTextOptions, notes: Notes): string {
  return format(target, '--in').write(conv, { id: opts.id, cwd: opts.cwd, fallbackTime: opts.fallbackTime ?? new Date(0).toISOString() }, notes);
}

/** The pure conversion: a session's text in the source's format to the target's, and what was dropped. */
export function convertText(source: { tool: ConvertibleTool; id: string }, text: string, target: ConvertibleTool, opts: ConvertTextOptions): { text: string; dropped: Dropped[]; conversation: Conversation } {
  const read = new Notes();
  const conversation = readConversation(source.tool, source.id, text, read);
  const written = new Notes();
  const out = writeConversation(conversation, target, opts, written);
  return { text: out, dropped: [...read.list(), ...written.list()], conversation };
}

/** The bytes of a session as its tool replays it (a Codex rollout decompressed, behind its fork parent's history). */
export async function readSource(adapter: SessionAdapter, session: SessionInfo): Promise<Buffer> {
  const f = format(adapter.tool, 'a session of');
  return f.source ? f.source(adapter, session) : readFileSync(session.file);
}

export interface ConversionPlan {
  readonly source: { readonly tool: ToolName; readonly id: string; readonly file: string };
  readonly target: ConvertibleTool;
  /** The converted session's id. */
  readonly id: string;
  /** Its transcript (rollout) file. */
  readonly file: string;
  /** The transcript's bytes. */
  readonly bytes: Buffer;
  /** Every file to write, the transcript first (none when `exists`). */
  readonly files: readonly TargetFile[];
  /** An identical conversion is there already (nothing to write). */
  readonly exists: boolean;
  /** The directory it is registered under and resumed in. */
  readonly cwd: string;
  readonly dropped: Dropped[];
}

function sameBytes(file: string, bytes: Buffer): boolean {
  try {
    return readFileSync(file).equals(bytes);
  } catch {
    return false;
  }
}

/** The most candidate ids tried before giving up (each one taken by a grown earlier conversion). */
const MAX_ATTEMPTS = 1000;

/** Reads the source and decides the converted session's id, files and bytes (writes nothing). */
export async function planConversion(src: { adapter: SessionAdapter; session: SessionInfo }, target: SessionAdapter, dir: string): Promise<ConversionPlan> {
  const { adapter, session } = src;
  format(adapter.tool, 'a session of');
  const to = format(target.tool, '--in');
  if (adapter.tool === target.tool) throw new RoamError(ErrorCodes.USAGE, `session ${session.id} is a ${target.tool} session already`);
  const bytes = await readSource(adapter, session);
  const read = new Notes();
  const conv = readConversation(adapter.tool, session.id, bytes.toString('utf8'), read);
  if (!conv.items.some((i) => i.type === 'text')) {
    throw new RoamError(ErrorCodes.USAGE, `${toolLabel(adapter.tool)} session ${session.id} has no messages to convert`, { id: session.id });
  }
  const fallbackTime = session.lastActivity;
  const started = conv.started ?? fallbackTime;
  const source = { tool: adapter.tool, id: session.id, sha256: sha256Hex(bytes) };
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    const derived = convertedId(source, target.tool, dir, attempt);
    const id = to.idOf?.(derived) ?? to.sessionId?.(derived) ?? derived;
    const written = new Notes();
    const opts = { id, cwd: dir, fallbackTime };
    const out = Buffer.from(to.write(conv, opts, written), 'utf8');
    const file = to.transcriptPath(target, id, dir, started);
    const plan = { source: { tool: adapter.tool, id: session.id, file: session.file }, target: target.tool, id, bytes: out, cwd: dir, dropped: [...read.list(), ...written.list()] };
    const existing = await target.find(id);
    if (existing) {
      if (sameBytes(existing.file, out)) return { ...plan, file: existing.file, files: [], exists: true };
      continue;
    }
    const companions = to.companions?.(conv, opts, file) ?? [];
    // A file or folder by one of its names with no session in it.
    if ([file, ...(to.taken?.(file) ?? []), ...companions.map((c) => c.path)].some((p) => existsSync(p))) continue;
    return { ...plan, file, files: [{ path: file, bytes: out }, ...companions], exists: false };
  }
  throw new RoamError(ErrorCodes.INTERNAL, `no free id for a conversion of ${session.id} after ${MAX_ATTEMPTS} tries`);
}

/**
 * Writes a planned conversion (nothing when an identical one exists; never overwrites a file),
 * then registers it where the target needs it. Returns what the registration did, for stderr.
 */
export function applyConversion(plan: ConversionPlan, target?: SessionAdapter, env: NodeJS.ProcessEnv = process.env): string[] {
  if (!plan.exists) {
    applyPlan({ tool: plan.target, originalId: plan.source.id, id: plan.id, renamed: true, transcript: plan.file, files: plan.files, command: { argv: [] } });
  }
  const register = toolNamed(plan.target)?.format?.register;
  if (!register || !target) return [];
  return register({ id: plan.id, cwd: plan.cwd, files: plan.exists ? [{ path: plan.file, bytes: plan.bytes }] : plan.files }, target, env);
}

/** The target's resume command for the converted session, with the arguments given after `--` (formats.ts: `resumeArgv`). */
export function resumeArgv(target: SessionAdapter, id: string, toolArgs: readonly string[], cwd: string): string[] {
  const argv = target.resumeCommand(id, { cwd }).argv;
  const f = toolNamed(target.tool)?.format;
  return f?.resumeArgv ? f.resumeArgv(argv, toolArgs) : [...argv, ...toolArgs];
}

/** Where a converted session is registered and resumed: here when this is its project, else its project's directory here (sessionDir). */
export function conversionDir(adapter: SessionAdapter, session: SessionInfo, cwd: string): string {
  if (session.projectKey === adapter.projectKey(cwd)) return cwd;
  return realDir(sessionDir(session, cwd));
}

export interface ResumeInArgs {
  readonly adapter: SessionAdapter;
  readonly session: SessionInfo;
  /** The tool named by `--in`. */
  readonly target: string;
  readonly toolArgs: readonly string[];
  readonly dryRun?: boolean;
  /** The adapters of a tool (resume's `deps.adapters`). */
  readonly adapters: (tool: string | undefined) => SessionAdapter[];
  readonly env: NodeJS.ProcessEnv;
  /** The current directory (real path). */
  readonly cwd: string;
  /** roamd's control socket, or null when it is not running. */
  readonly socket: string | null;
  readonly io: Io;
}

/** Warnings when the source is still being written: the conversion holds what is on disk now. */
async function busyWarnings(a: ResumeInArgs): Promise<string[]> {
  const out: string[] = [];
  if (a.socket) {
    try {
      const { leases } = await call(a.socket, 'leases', { session: a.session.id });
      for (const l of leases.filter((x) => !x.self)) out.push(`${l.name} is still writing session ${a.session.id}`);
    } catch {
      // no lease information: nothing to warn about
    }
  }
  for (const l of a.adapter.openHere?.(a.session.id) ?? []) out.push(`session ${a.session.id} is open in another terminal here (pid ${l.pid})`);
  return out;
}

/** `roam resume <id> --in <tool>`: convert, say what was dropped, write, and run the target's resume. */
export async function resumeIn(a: ResumeInArgs): Promise<void> {
  format(a.target, '--in');
  format(a.adapter.tool, 'a session of');
  const [target] = a.adapters(a.target);
  if (!target) throw new RoamError(ErrorCodes.USAGE, `--in ${a.target}: no adapter for it`);
  for (const w of await busyWarnings(a)) a.io.err(`roam: warning: ${w}; converting what this machine holds now`);
  const dir = conversionDir(a.adapter, a.session, a.cwd);
  const plan = await planConversion({ adapter: a.adapter, session: a.session }, target, dir);
  const command = resumeArgv(target, plan.id, a.toolArgs, dir);
  const from = `${toolLabel(a.adapter.tool)} session ${a.session.id}`;
  a.io.err(plan.exists
    ? `roam: ${from} was converted before: resuming ${toolLabel(plan.target)} session ${plan.id} (${plan.file})`
    : `roam: ${from} converted to ${toolLabel(plan.target)} session ${plan.id}${a.dryRun ? ' (dry run: not written)' : ''} (${plan.file})`);
  for (const d of plan.dropped) a.io.err(`roam: not carried as it was: ${d.count} × ${d.detail}`);
  if (a.dryRun) {
    a.io.out(JSON.stringify({
      cwd: dir, command, session: plan.id, file: plan.file, exists: plan.exists,
      convertedFrom: { tool: a.adapter.tool, session: a.session.id, file: a.session.file }, dropped: plan.dropped,
    }));
    return;
  }
  whichTool(command[0]!, a.env); // not installed: say so before writing anything
  for (const line of applyConversion(plan, target, a.env)) a.io.err(`roam: ${line}`);
  const code = await runTool(command, { cwd: dir, env: a.env });
  if (code !== 0) throw new ToolExit(code);
}
