/**
 * Claude Code's session adapter.
 *
 * Root: `$CLAUDE_CONFIG_DIR`, else `~/.claude`. A session is `projects/<key>/<name>.jsonl`: any
 * `.jsonl` file directly in a key directory whose lines are a session (so conflict copies and forks
 * count too); its id is the `sessionId` of its lines (the file's stem when the lines carry it, or
 * none). Sub-agent transcripts (`<uuid>/subagents/agent-*.jsonl`) and tool results live in
 * subdirectories and are not sessions of their own. Hidden files (temporary files) are skipped.
 *
 * Metadata comes from claude-meta.ts, cached by path, size and mtime (cache.ts); search from
 * scan.ts; the conversation from transcript.ts.
 */
import { readdirSync, statSync, type Dirent } from 'node:fs';
import { join, sep } from 'node:path';
import type { MetaCache } from '../../sessions/cache.js';
import { withCwd } from '../../sessions/paths.js';
import { homedir } from 'node:os';
import { claudeNotCarried } from './carry.js';
import type { ListedJson, ListOptions, SessionInfo, SubAgent, ToolCommand, TranscriptEntry } from '../../sessions/types.js';
import { BaseAdapter, toolHome, type About, type FoundFile, type LineCheck } from '../common/base.js';
import type { AdapterOptions } from '../types.js';
import { readClaudeMeta } from './meta.js';
import { liveClaudeSessions, type LiveSession } from './live.js';
import { readTranscript } from './transcript.js';
import { readSubagents } from './subagents.js';
import { snippet } from '../../sessions/scan.js';

// ------------------------------------------------------------------ project keys

/** Keys longer than this are cut and get a hash suffix. */
export const KEY_MAX = 200;

/**
 * Claude Code's project key of a directory: its real path with every UTF-16 code unit outside
 * [A-Za-z0-9] replaced by '-' (no collapsing; an astral character gives two). Over 200 characters:
 * the first 200, '-', and `longKeySuffix(path)`. The path is taken as given: pass a realpath (no
 * trailing separator), as Claude Code does with its working directory.
 */
export function projectKey(path: string): string {
  const key = path.replace(/[^a-zA-Z0-9]/g, '-');
  return key.length <= KEY_MAX ? key : `${key.slice(0, KEY_MAX)}-${longKeySuffix(path)}`;
}

/**
 * The hash suffix of a long key: Java's String.hashCode over the path's UTF-16 code units, absolute
 * value, base 36 — the real CLI's own (measured with 2.1.329, docs/CLAUDE-CODE.md §5). Lookups still
 * go through `keyMatches`, which compares long keys on their first 200 characters, as the CLI does.
 */
export function longKeySuffix(path: string): string {
  return Math.abs(javaStringHash(path)).toString(36);
}

export function javaStringHash(s: string): number {
  let h = 0;
  for (let i = 0; i < s.length; i++) h = (Math.imul(h, 31) + s.charCodeAt(i)) | 0;
  return h;
}

/** Whether the key directory `dirName` is the project of `path` (long keys: on their 200-char prefix). */
export function keyMatches(dirName: string, path: string): boolean {
  const key = path.replace(/[^a-zA-Z0-9]/g, '-');
  if (key.length <= KEY_MAX && dirName.length <= KEY_MAX) return dirName === key;
  return key.length > KEY_MAX && dirName.length > KEY_MAX && dirName.slice(0, KEY_MAX) === key.slice(0, KEY_MAX);
}

// ------------------------------------------------------------------ the adapter

export type ClaudeAdapterOptions = AdapterOptions;

/** A transcript file found on disk, before it is read. */
export interface SessionFile extends FoundFile {
  /** The file's directory and name (`file` is dir + sep + name). */
  readonly dir: string;
  readonly name: string;
  readonly projectKey: string;
}

/** Claude Code to the base adapter: its home is `$CLAUDE_CONFIG_DIR`, else `~/.claude`. */
export const CLAUDE: About = { label: 'Claude Code', home: (env) => toolHome(env, 'CLAUDE_CONFIG_DIR', '.claude') };

export class ClaudeAdapter extends BaseAdapter<SessionFile> {
  readonly tool = 'claude' as const;
  protected readonly about = CLAUDE;
  protected override readonly filesOfProject = true;


  /** Where the transcripts are: `<root>/projects`. */
  projectsDir(): string {
    return join(this.root(), 'projects');
  }

  protected filesRoot(): string {
    return this.projectsDir();
  }

  projectKey(path: string): string {
    return projectKey(path);
  }

  /** The transcript files (not read), of one project directory or of all; `cache`: where directory listings are kept. */
  files(project?: string, cache?: MetaCache): SessionFile[] {
    const out: SessionFile[] = [];
    this.walk(project, cache, (file, dir, name, projectKey, size, mtimeMs) => out.push({ file, dir, name, projectKey, size, mtimeMs }));
    return out;
  }

  /**
   * Calls `f` for each transcript file (not read), of one project directory or of all, in the order
   * of files(). A project directory whose mtime is the one `cache` listed it at is not read again
   * (see MetaCache.listing): a warm `roam list` stats its 10,000 files, and reads no directory but the root.
   */
  private walk(project: string | undefined, cache: MetaCache | undefined, f: (file: string, dir: string, name: string, projectKey: string, size: number, mtimeMs: number) => void): void {
    const root = this.projectsDir();
    for (const d of entries(root)) {
      if (d.name.startsWith('.') || (project !== undefined && !keyMatches(d.name, project))) continue;
      if (!d.isDirectory() && !d.isSymbolicLink()) continue;
      const dir = join(root, d.name);
      const dst = statSync(dir, { throwIfNoEntry: false });
      if (!dst?.isDirectory()) continue;
      let listing = cache?.listing(dir, dst.mtimeMs);
      if (!listing) {
        listing = names(dir).filter((name) => name.endsWith('.jsonl') && !name.startsWith('.'));
        cache?.setListing(dir, dst.mtimeMs, listing);
      }
      const prefix = dir + sep; // path.join per file was a tenth of a warm `roam list`
      for (const name of listing) {
        const file = prefix + name;
        const st = statSync(file, { throwIfNoEntry: false });
        if (st?.isFile()) f(file, dir, name, d.name, st.size, st.mtimeMs);
      }
    }
  }

  protected readInfo(f: SessionFile): SessionInfo | null {
    let meta;
    try {
      meta = readClaudeMeta(f.file, f.size, { ...this.options.meta, ...(this.options.read ? { read: this.options.read } : {}) });
    } catch {
      return null; // vanished or unreadable since the stat
    }
    if (!meta) return null;
    return this.sessionInfo(f, { ...meta, projectKey: f.projectKey });
  }

  /**
   * The sessions as `roam list --json` prints them, in the order of `files()` (not sorted): the
   * cached JSON as it is, read and cached for files new or changed since.
   */
  async listJson(opts: ListOptions = {}): Promise<ListedJson[]> {
    const cache = this.cache();
    const out: ListedJson[] = [];
    let count = 0;
    this.walk(opts.project, cache, (file, dir, name, projectKey, size, mtimeMs) => {
      count++;
      let listed = cache.jsonOf(dir, name, size, mtimeMs);
      if (listed === undefined) {
        const info = this.readInfo({ file, dir, name, projectKey, size, mtimeMs });
        cache.set(file, size, mtimeMs, info);
        listed = info && cache.jsonOf(dir, name, size, mtimeMs);
      }
      if (listed) out.push(listed);
    });
    if (opts.project === undefined && cache.size > count) cache.prune(this.projectsDir(), new Set(this.files().map((f) => f.file)));
    cache.save();
    return out;
  }

  protected override lineCheck(needle: string): LineCheck {
    return (o) => {
      const t = searchable(o);
      if (!t || !t.text.toLowerCase().includes(needle)) return null;
      return { role: t.role, snippet: snippet(t.text, needle) };
    };
  }

  /** Nearly always the file's stem is the id: find reads those first. */
  protected mayHold(f: SessionFile, id: string): boolean {
    return stem(f.file) === id;
  }

  protected transcript(info: SessionInfo): TranscriptEntry[] {
    return readTranscript(info.file);
  }

  subagents(info: SessionInfo): SubAgent[] {
    return readSubagents(info.file);
  }

  /** The Claude Code processes of this machine that have session `id` open (live.ts). */
  openHere(id: string): LiveSession[] {
    return liveClaudeSessions(this.root()).filter((l) => l.sessionId === id);
  }

  /** What `roam resume` cannot carry here (carry.ts). */
  notCarried(_session: SessionInfo, dir: string): string[] {
    return claudeNotCarried(this.env, this.env.HOME || homedir(), dir);
  }

  resumeCommand(id: string, opts: { cwd?: string } = {}): ToolCommand {
    return withCwd(['claude', '--resume', id], opts.cwd);
  }

  forkCommand(id: string, opts: { cwd?: string } = {}): ToolCommand {
    return withCwd(['claude', '--resume', id, '--fork-session'], opts.cwd);
  }

  newCommand(name: string, opts: { cwd?: string } = {}): ToolCommand {
    return withCwd(['claude', '--name', name], opts.cwd);
  }
}

/** The text a search looks at in one line: user and assistant text, and titles. */
function searchable(o: Record<string, unknown>): { role: 'user' | 'assistant' | 'title'; text: string } | null {
  switch (o.type) {
    case 'user':
    case 'assistant': {
      if (o.isSidechain === true || o.isMeta === true) return null;
      const c = (o.message as { content?: unknown } | undefined)?.content;
      const text = typeof c === 'string'
        ? c
        : Array.isArray(c)
          ? c.filter((b) => b && b.type === 'text' && typeof b.text === 'string').map((b) => b.text as string).join('\n')
          : '';
      return text ? { role: o.type, text } : null;
    }
    case 'custom-title':
      return typeof o.customTitle === 'string' ? { role: 'title', text: o.customTitle } : null;
    case 'ai-title':
      return typeof o.aiTitle === 'string' ? { role: 'title', text: o.aiTitle } : null;
    case 'summary':
      return typeof o.summary === 'string' ? { role: 'title', text: o.summary } : null;
    default:
      return null;
  }
}

function entries(dir: string): Dirent[] {
  try {
    return readdirSync(dir, { withFileTypes: true });
  } catch {
    return [];
  }
}

function names(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

function stem(file: string): string {
  const base = file.slice(file.lastIndexOf(sep) + 1);
  return base.endsWith('.jsonl') ? base.slice(0, -6) : base;
}

