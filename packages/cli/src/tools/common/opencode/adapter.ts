/**
 * The session adapter of an OpenCode-family tool (family.ts): it lists, searches and shows the
 * roam-owned logs (log.ts) of the tool's database, which it first brings up to date with the
 * database here (mirror.ts, best effort: roamd does the same every second and logs failures);
 * `resume` brings a session from its log into the database through the tool's own import
 * (materialize.ts, prepareResume) and runs `<tool> -s <id>`.
 *
 * No project key of its own: as for Codex, a directory is its own key; a session's projectKey is
 * the directory it began in (its log's first session row), its cwd the latest one recorded.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { ErrorCodes, RoamError } from '@roam/core/errors';
import { oneLine, withCwd } from '../../../sessions/paths.js';
import { snippet } from '../../../sessions/scan.js';
import type { SessionInfo, ToolCommand, TranscriptEntry } from '../../../sessions/types.js';
import type { AdapterOptions } from '../../types.js';
import { BaseAdapter, type About, type FoundFile, type LineCheck } from '../base.js';
import { holders } from './db.js';
import { dbPath, logDir, SESSION_ID, type Flavor } from './family.js';
import { logTranscript, messageText, parseLog, partsByMessage } from './log.js';
import { materialize } from './materialize.js';
import { mirrorDb } from './mirror.js';

const TITLE_MAX = 200;

export class OpencodeFamilyAdapter extends BaseAdapter<FoundFile> {
  readonly tool: string;
  protected readonly about: About;

  constructor(readonly flavor: Flavor, options: AdapterOptions = {}) {
    super(options);
    this.tool = flavor.name;
    this.about = { label: flavor.label, cacheName: `sessions-cache-${flavor.name}.json`, home: (env) => logDir(flavor, env) };
  }

  /** The environment it reads (the conversion's paths). */
  envOf(): NodeJS.ProcessEnv {
    return this.env;
  }

  projectKey(path: string): string {
    return path;
  }

  /** The database here, appended to the logs (errors left to roamd's log). */
  mirror(): void {
    try {
      mirrorDb(this.flavor, this.env);
    } catch {
      // an unmeasured schema or a database being replaced: roamd logs it; resume refuses it
    }
  }

  files(): FoundFile[] {
    this.mirror();
    const dir = this.root();
    let names: string[];
    try {
      names = readdirSync(dir);
    } catch {
      return [];
    }
    const out: FoundFile[] = [];
    for (const name of names) {
      if (!name.endsWith('.jsonl') || !(this.flavor.ids ?? SESSION_ID).test(name.slice(0, -6))) continue;
      const file = join(dir, name);
      const st = statSync(file, { throwIfNoEntry: false });
      if (st?.isFile()) out.push({ file, size: st.size, mtimeMs: st.mtimeMs });
    }
    return out;
  }

  protected filesRoot(): string {
    return this.root();
  }

  protected readInfo(f: FoundFile): SessionInfo | null {
    let text: string;
    try {
      text = readFileSync(f.file, 'utf8');
    } catch {
      return null;
    }
    const s = parseLog(text);
    if (!s.session) return null;
    const parts = partsByMessage(s);
    const roles = s.messages.map((m) => (m.data as { role?: unknown } | null)?.role);
    const firstUser = s.messages.find((m) => (m.data as { role?: unknown } | null)?.role === 'user');
    const firstPrompt = oneLine(firstUser ? messageText(parts.get(String(firstUser.id)) ?? []) : null, TITLE_MAX);
    const title = typeof s.session.title === 'string' && !s.session.title.startsWith('New session - ') ? oneLine(s.session.title, TITLE_MAX) : null;
    const dir = (row: Record<string, unknown> | null): string | null => (row && typeof row.directory === 'string' ? row.directory : null);
    const updated = typeof s.session.time_updated === 'number' ? new Date(s.session.time_updated).toISOString() : null;
    return this.sessionInfo(f, {
      id: basename(f.file, '.jsonl'), projectKey: dir(s.firstSession) ?? '-', cwd: dir(s.session), title: title ?? firstPrompt, firstPrompt,
      lastTimestamp: updated, messages: roles.filter((r) => r === 'user' || r === 'assistant').length, messagesExact: true, gitBranch: null,
    });
  }

  protected mayHold(f: FoundFile, id: string): boolean {
    return basename(f.file, '.jsonl') === id;
  }

  protected override lineCheck(needle: string): LineCheck {
    return (o) => {
      if (o.table !== 'part' || (o.role !== 'user' && o.role !== 'assistant')) return null;
      const data = (o.row as { data?: { type?: unknown; text?: unknown } } | undefined)?.data;
      if (data?.type !== 'text' || typeof data.text !== 'string' || !data.text.toLowerCase().includes(needle)) return null;
      return { role: o.role, snippet: snippet(data.text, needle) };
    };
  }

  protected transcript(info: SessionInfo): TranscriptEntry[] {
    return logTranscript(parseLog(readFileSync(info.file, 'utf8')));
  }

  /** Brings the session into the database here through the tool's own import (materialize.ts). */
  async prepareResume(session: SessionInfo, dir: string): Promise<string[]> {
    if (this.flavor.captured) throw this.capturedOnly(session.id);
    return materialize(this.flavor, this.env, session.file, session.id, dir);
  }

  /** The processes here that run the tool on the session (by their command line). */
  openHere(id: string): Array<{ pid: number }> {
    return holders(dbPath(this.flavor, this.env), id, null);
  }

  /** `<tool> -s <id>` (the TUI; `<tool> -s <id> run <prompt>` with arguments after `--`). */
  resumeCommand(id: string, opts: { cwd?: string } = {}): ToolCommand {
    if (this.flavor.captured) throw this.capturedOnly(id);
    return withCwd([this.flavor.bin, '-s', id], opts.cwd);
  }

  /** `<tool> -s <id> --fork` ("fork the session when continuing"). */
  forkCommand(id: string, opts: { cwd?: string } = {}): ToolCommand {
    if (this.flavor.captured) throw this.capturedOnly(id);
    return withCwd([this.flavor.bin, '-s', id, '--fork'], opts.cwd);
  }

  /** A captured tool's sessions are continued in another tool (`roam resume <id> --in claude`). */
  private capturedOnly(id: string): RoamError {
    return new RoamError(ErrorCodes.USAGE, `${this.flavor.label} sessions are captured (read-only): continue ${id} in another tool, e.g. \`roam resume ${id} --in claude\``, { tool: this.flavor.name, id });
  }

  /** The tool names a session from its first prompt; it has no option to name a new one. */
  newCommand(_name: string, _opts: { cwd?: string } = {}): ToolCommand {
    throw new RoamError(ErrorCodes.USAGE, `${this.flavor.bin} names a session from its first prompt and takes no name for a new one: run \`${this.flavor.bin}\``, { tool: this.flavor.name });
  }
}
