/**
 * Aider, captured (docs/tools/aider.md): a project's `.aider.chat.history.md` (history.ts) is one
 * session, the whole of what `aider --restore-chat-history` would restore. Aider keeps no store of
 * its own, so roam finds the histories of the current directory and its parents, and of the
 * folders config.json names for roamd (each, and its directories one level down): a project that
 * travels in such a folder brings its history along. Its id: `aider-` and the start of its first
 * run (`aider-20261208T030000`), the same on every device; its cwd: the directory holding it.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { ErrorCodes, RoamError } from '@roam/core/errors';
import { roamPaths } from '../../machine/paths.js';
import { oneLine } from '../../sessions/paths.js';
import { snippet } from '../../sessions/scan.js';
import type { SearchHit, SearchOptions, SessionInfo, ToolCommand, TranscriptEntry } from '../../sessions/types.js';
import { BaseAdapter, type About, type FoundFile } from '../common/base.js';
import { AIDER_HISTORY, aiderTranscript, parseAider } from './history.js';

export const AIDER: About = { label: 'Aider', cacheName: 'sessions-cache-aider.json', home: (env) => roamPaths(env).state };

function isFile(p: string): FoundFile | null {
  const st = statSync(p, { throwIfNoEntry: false });
  return st?.isFile() ? { file: p, size: st.size, mtimeMs: st.mtimeMs } : null;
}

export class AiderAdapter extends BaseAdapter<FoundFile> {
  readonly tool = 'aider' as const;
  protected readonly about = AIDER;

  projectKey(path: string): string {
    return path;
  }

  /** The directories whose history roam reads: here and up, and the folders roamd syncs (one level down too). */
  private dirs(): string[] {
    const out = new Set<string>();
    for (let d = resolve(process.cwd()); ; d = dirname(d)) {
      out.add(d);
      if (dirname(d) === d) break;
    }
    let folders: unknown = [];
    try {
      folders = (JSON.parse(readFileSync(roamPaths(this.env).configFile, 'utf8')) as { folders?: unknown }).folders ?? [];
    } catch {
      // no config.json: only the current directory's project
    }
    for (const f of Array.isArray(folders) ? folders : []) {
      const path = (f as { path?: unknown } | null)?.path;
      if (typeof path !== 'string') continue;
      out.add(path);
      try {
        for (const e of readdirSync(path, { withFileTypes: true })) if (e.isDirectory() && !e.name.startsWith('.')) out.add(join(path, e.name));
      } catch {
        // not there (yet)
      }
    }
    return [...out];
  }

  files(): FoundFile[] {
    return this.dirs().flatMap((d) => isFile(join(d, AIDER_HISTORY)) ?? []);
  }

  protected filesRoot(): string {
    return '/';
  }

  private read(file: string): ReturnType<typeof parseAider> | null {
    try {
      return parseAider(readFileSync(file, 'utf8'));
    } catch {
      return null;
    }
  }

  protected readInfo(f: FoundFile): SessionInfo | null {
    const h = this.read(f.file);
    if (!h?.messages.length) return null;
    const first = h.runs[0] ?? new Date(f.mtimeMs).toISOString().slice(0, 19);
    const prompt = oneLine(h.messages.find((m) => m.role === 'user')?.text ?? null, 200);
    const last = h.runs[h.runs.length - 1] ?? null;
    return this.sessionInfo(f, {
      id: `aider-${first.replace(/[-:]/g, '')}`, projectKey: dirname(f.file), cwd: dirname(f.file), title: prompt, firstPrompt: prompt,
      lastTimestamp: last === null ? null : `${last}Z`, messages: h.messages.length, messagesExact: true, gitBranch: null,
    });
  }

  protected mayHold(): boolean {
    return true;
  }


  override async search(text: string, opts: SearchOptions = {}): Promise<SearchHit[]> {
    if (!text) throw new RoamError(ErrorCodes.USAGE, 'nothing to search for');
    const needle = text.toLowerCase();
    const hits: SearchHit[] = [];
    for (const session of await this.list(opts.project === undefined ? {} : { project: opts.project })) {
      for (const m of this.read(session.file)?.messages ?? []) {
        if (m.text.toLowerCase().includes(needle)) hits.push({ session, line: m.line, role: m.role, snippet: snippet(m.text, needle) });
      }
    }
    return hits.slice(0, opts.limit ?? Infinity);
  }

  protected transcript(info: SessionInfo): TranscriptEntry[] {
    const h = this.read(info.file);
    if (!h) throw new RoamError(ErrorCodes.SESSION_UNREADABLE, `${info.file} is not an Aider chat history`, { file: info.file });
    return aiderTranscript(h.messages);
  }

  private captured(id: string): never {
    throw new RoamError(ErrorCodes.USAGE, `Aider is captured only (roam reads its chat history and does not run it); \`roam resume ${id} --in claude\` (or codex, gemini, copilot, qwen) continues it in another tool`, { id, tool: 'aider' });
  }

  resumeCommand(id: string): ToolCommand {
    return this.captured(id);
  }

  forkCommand(id: string): ToolCommand {
    return this.captured(id);
  }

  newCommand(name: string): ToolCommand {
    return this.captured(name);
  }
}
