/**
 * Gemini CLI's session adapter (docs/GEMINI.md; measured with @google/gemini-cli 0.61.0).
 *
 * Root: `$GEMINI_CLI_HOME/.gemini`, else `~/.gemini` (GEMINI_CLI_HOME stands for the home
 * directory, not for `.gemini`). A session is `tmp/<project slug>/chats/session-<UTC
 * YYYY-MM-DDTHH-MM>-<id8>.jsonl` (a session imported with `--session-file`:
 * `session-<epoch ms>-<id8>.jsonl`; old versions: one whole-file `.json`, rewritten on every change).
 * Sub-agents' sessions are in `chats/<parent id>/` and are not listed, as the CLI does not list them.
 *
 * The files are read in session.ts. A file whose last state has no resumable message (a user prompt that is not a slash command or
 * the CLI's `<session_context>`, or a model turn) is not a session, as in `gemini --list-sessions`;
 * when two files hold one id, the later `lastUpdated` wins (the CLI's rule, which matters because a
 * resume in a later minute leaves a stub file with the same id: docs/GEMINI.md).
 *
 * The project slug comes from `<root>/projects.json` (absolute path → slug, per machine and not
 * synced; older versions used `sha256(path)` as the directory name). A session's projectKey is its
 * slug, its cwd the first workspace directory of its `<session_context>` (the writer's path).
 */
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { ErrorCodes, RoamError } from '@roam/core/errors';
import type { ProjectPlaces } from '../../machine/project-identity.js';
import { ofProject, oneLine, withCwd } from '../../sessions/paths.js';
import { snippet } from '../../sessions/scan.js';
import { geminiNotCarried } from './carry.js';
import type { SearchHit, SearchOptions, SessionInfo, ToolCommand, TranscriptEntry } from '../../sessions/types.js';
import { BaseAdapter, type FoundFile } from '../common/base.js';
import { chatFiles } from '../common/files.js';
import type { AdapterOptions } from '../types.js';
import { prepareResume, projectsOf, registerProject, slugFor } from './projects.js';
import {
  GEMINI_SESSION_NAME, geminiTranscript, isContextText, isResumable, parseGeminiSession, partsText, projectHash, sessionCwd, slugify, type GeminiSession,
} from './session.js';

const TITLE_MAX = 200;

export type GeminiAdapterOptions = AdapterOptions;

export interface GeminiFile extends FoundFile {
  /** The directory under `tmp/` (the project's slug, or an old version's sha256 of its path). */
  readonly slug: string;
}


/** Gemini CLI's home: `$GEMINI_CLI_HOME/.gemini`, else `~/.gemini` (measured: the CLI's homedir() is GEMINI_CLI_HOME). */
export function geminiHome(env: NodeJS.ProcessEnv): string {
  return join(env.GEMINI_CLI_HOME || env.HOME || homedir(), '.gemini');
}

export class GeminiAdapter extends BaseAdapter<GeminiFile> {
  readonly tool = 'gemini' as const;
  protected readonly about = { label: 'Gemini CLI', cacheName: 'sessions-cache-gemini.json', home: geminiHome };


  /** `projects.json`'s map: absolute path → slug (empty when missing or unreadable). */
  projects(): Record<string, string> {
    return projectsOf(this.root());
  }

  /**
   * The slug the CLI files `path` under here: its projects.json entry, else the one it would claim
   * first (the slugified directory name; the CLI adds `-1`, `-2` when that is taken).
   */
  projectKey(path: string): string {
    return this.projects()[resolve(path)] ?? slugify(basename(resolve(path)));
  }

  /**
   * Sessions of `dir` beside those its identity finds: under the slug projects.json gives it here
   * unless their recorded directory is another project's here and their metadata does not name
   * `dir` (`roam import` files a session for this directory: its projectHash); under the slug it
   * would get, or an old version's sha256 of its path, when they record none.
   */
  private bySlug(dir: string): (s: SessionInfo, places: ProjectPlaces) => boolean {
    const projects = this.projects();
    const mapped = projects[dir];
    const guess = slugify(basename(dir));
    const keys = new Set([projectHash(dir), mapped ?? (Object.values(projects).includes(guess) ? projectHash(dir) : guess)]);
    return (s, places) => (s.cwd === null ? keys.has(s.projectKey) : s.projectKey === mapped && (places.dirOf(s.cwd) === null || this.read(s.file)?.projectHash === projectHash(dir)));
  }

  /** Session files: `tmp/*\/chats/session-*.json(l)`. */
  files(): GeminiFile[] {
    return chatFiles(join(this.root(), 'tmp'), (slug, name) => (GEMINI_SESSION_NAME.test(name) ? { slug } : null));
  }

  /** A file parsed, or null (unreadable, not a session). */
  read(file: string): GeminiSession | null {
    try {
      return parseGeminiSession(readFileSync(file, 'utf8'));
    } catch {
      return null;
    }
  }

  protected filesRoot(): string {
    return join(this.root(), 'tmp');
  }

  protected readInfo(f: GeminiFile): SessionInfo | null {
    const s = this.read(f.file);
    if (!s || s.kind === 'subagent' || !s.messages.some(isResumable)) return null;
    let first: string | null = null;
    let messages = 0;
    let lastTs: string | null = null;
    for (const m of s.messages) {
      if (m.timestamp) lastTs = m.timestamp;
      if (!isResumable(m)) continue;
      messages++;
      if (first === null && m.type === 'user') first = partsText(m.content);
    }
    const firstPrompt = oneLine(first, TITLE_MAX);
    const title = oneLine(s.summary, TITLE_MAX) ?? firstPrompt;
    return this.sessionInfo(f, { id: s.sessionId, projectKey: f.slug, cwd: sessionCwd(s), title, firstPrompt, lastTimestamp: s.lastUpdated ?? lastTs, messages, messagesExact: true, gitBranch: null });
  }

  /** One session per id: the file with the latest lastUpdated, as the CLI picks. */
  protected override finish(infos: SessionInfo[]): SessionInfo[] {
    const byId = new Map<string, SessionInfo>();
    for (const info of infos) {
      const seen = byId.get(`${info.projectKey}\n${info.id}`);
      if (!seen || info.lastActivity > seen.lastActivity) byId.set(`${info.projectKey}\n${info.id}`, info);
    }
    return [...byId.values()];
  }

  protected override ofProject(infos: SessionInfo[], dir: string): SessionInfo[] {
    return ofProject(infos, dir, this.env, this.bySlug(dir));
  }

  /** The file's name ends with the id's first 8 characters (legacy names may not). */
  protected mayHold(f: GeminiFile, id: string): boolean {
    return basename(f.file).replace(/\.jsonl?$/, '').toLowerCase().endsWith(`-${id.slice(0, 8).toLowerCase()}`);
  }


  /** Sessions, not files: a file is parsed whole, as the CLI replays it (a `$rewindTo` drops lines). */
  override async search(text: string, opts: SearchOptions = {}): Promise<SearchHit[]> {
    return this.searchParsed(text, opts, (raw, session, needle, limit) => {
      const s = parseGeminiSession(raw);
      if (!s) return [];
      const hits: SearchHit[] = [];
      if (s.summary && s.summary.toLowerCase().includes(needle)) hits.push({ session, line: 1, role: 'title', snippet: snippet(s.summary, needle) });
      for (const m of s.messages) {
        if (hits.length >= limit) break;
        if (m.type !== 'user' && m.type !== 'gemini') continue;
        const t = partsText(m.content);
        if (m.type === 'user' && isContextText(t)) continue;
        if (t.toLowerCase().includes(needle)) hits.push({ session, line: m.line, role: m.type === 'user' ? 'user' : 'assistant', snippet: snippet(t, needle) });
      }
      return hits;
    });
  }

  protected transcript(info: SessionInfo): TranscriptEntry[] {
    const s = this.read(info.file);
    if (!s) throw new RoamError(ErrorCodes.SESSION_UNREADABLE, `${info.file} is not a Gemini CLI session`, { file: info.file });
    return geminiTranscript(s);
  }

  /** `gemini --resume <id>`: the CLI finds it among the sessions of the directory's project (its slug). */
  /** What `roam resume` cannot carry here (carry.ts). */
  notCarried(_session: SessionInfo, _dir: string): string[] {
    return geminiNotCarried();
  }

  resumeCommand(id: string, opts: { cwd?: string } = {}): ToolCommand {
    return withCwd(['gemini', '--resume', id], opts.cwd);
  }

  /**
   * Gemini CLI 0.61 has no fork; `--session-file <file>` loads a session's messages into a new
   * session (new id, filed under the current directory's project) and leaves the file as it is,
   * which is a fork. But with the CLI's session cleanup on (`general.sessionRetention.enabled`, the
   * default) the next gemini run in that project deletes the new session (measured, docs/GEMINI.md),
   * so the command is given only when this machine's settings turn the cleanup off.
   */
  forkCommand(id: string, opts: { cwd?: string } = {}): ToolCommand {
    const file = this.fileOf(id);
    if (!file) throw new RoamError(ErrorCodes.SESSION_NOT_FOUND, `no Gemini CLI session ${id}`, { id });
    if (this.cleanupOn()) {
      throw new RoamError(ErrorCodes.USAGE, `Gemini CLI has no fork that lasts: \`gemini --session-file ${file}\` copies session ${id} into a new one, but Gemini CLI 0.61's session cleanup deletes that copy on its next run in the project; set "general": {"sessionRetention": {"enabled": false}} in ${join(this.root(), 'settings.json')} to keep it`, { id, tool: 'gemini' });
    }
    return withCwd(['gemini', '--session-file', file], opts.cwd);
  }

  /** Whether the CLI's session cleanup is on (user settings; default on). */
  cleanupOn(): boolean {
    try {
      const s = JSON.parse(readFileSync(join(this.root(), 'settings.json'), 'utf8')) as { general?: { sessionRetention?: { enabled?: unknown } } };
      return s.general?.sessionRetention?.enabled !== false;
    } catch {
      return true;
    }
  }

  /** Gemini CLI cannot name a session when it starts (0.61: the name is a summary it writes itself). */
  newCommand(name: string, _opts: { cwd?: string } = {}): ToolCommand {
    throw new RoamError(ErrorCodes.USAGE, `gemini cannot name a new session from the command line (0.61 titles a session with the first prompt or a summary it writes): run \`gemini\` and start with "${name}"`, { tool: 'gemini' });
  }

  /** The file of a session, synchronously (forkCommand): the newest file holding that id. */
  fileOf(id: string): string | null {
    return this.findNow(id)?.file ?? null;
  }

  /** The slug `dir` is filed under here (projects.ts). */
  slugFor(dir: string): string {
    return slugFor(this.root(), dir);
  }

  /** Files `dir` under `slug` for the CLI (projects.ts). Returns what it did. */
  registerProject(dir: string, slug: string): string[] {
    return registerProject(this.root(), dir, slug);
  }

  /** Before `gemini --resume` in `dir`: make the CLI file `dir` under the session's slug (projects.ts). */
  async prepareResume(session: SessionInfo, dir: string): Promise<string[]> {
    return prepareResume(this.root(), session, dir);
  }
}
