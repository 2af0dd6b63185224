/** `roam import` of a Gemini CLI bundle, filed under the current directory's slug (docs/GEMINI.md). */
import { randomUUID } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ErrorCodes, RoamError } from '@roam/core/errors';
import type { SessionAdapter } from '../../sessions/types.js';
import { SESSION_FILE, type Bundle } from '../../share/bundle.js';
import { UUID, inside, rewriteLines, type ImportPlan, type PlannedFile } from '../../share/importer.js';
import { geminiFileName } from './target.js';
import { parseGeminiSession, projectHash } from './session.js';

export interface GeminiTarget {
  /** `~/.gemini`. */
  root(): string;
  slugFor(dir: string): string;
  registerProject(dir: string, slug: string): string[];
  find: SessionAdapter['find'];
  resumeCommand: SessionAdapter['resumeCommand'];
}

function readMarker(file: string): string | null {
  try {
    return readFileSync(file, 'utf8').trim() || null;
  } catch {
    return null;
  }
}

function names(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

/**
 * The plan of a Gemini CLI bundle: the session goes to `tmp/<slug>/chats/session-<now, UTC
 * minute>-<id8>.jsonl` (a legacy whole-file session to `….json`), its sub-agents' sessions to
 * `chats/<id>/`, where `<slug>` is the one `cwd` is filed under here (GeminiAdapter.slugFor: its
 * projects.json entry, else a slug no other project has), and `cwd` is registered under it once
 * the files are written, as the CLI finds a session only in its directory's slug. The id is new
 * when it is taken here (a session with it anywhere, or a file of the slug's `chats/` ending in its
 * first 8 characters, which the CLI's cleanup would take for the same session): the metadata's
 * `sessionId` (also in `$set`) changes to it, and the file name's id8. The metadata's
 * `projectHash` becomes the sha256 of `cwd`, as the CLI writes it.
 */
export async function planGemini(bundle: Bundle, adapter: GeminiTarget, cwd: string, newId: () => string = randomUUID, now = Date.now()): Promise<ImportPlan> {
  const original = bundle.manifest.sessionId;
  const raw = bundle.files.get(SESSION_FILE);
  if (!raw) throw new RoamError(ErrorCodes.BUNDLE_INVALID, `bundle holds no ${SESSION_FILE}`);
  for (const name of bundle.files.keys()) {
    if (name !== SESSION_FILE && !name.startsWith('subagents/')) throw new RoamError(ErrorCodes.BUNDLE_INVALID, `a Gemini CLI bundle holds ${SESSION_FILE} and subagents/, not ${name}`, { name });
  }
  const key = resolve(cwd);
  const slug = adapter.slugFor(key);
  // A slug projects.json gives this directory but whose marker names another: the CLI drops that mapping on start.
  for (const m of [join(adapter.root(), 'tmp', slug, '.project_root'), join(adapter.root(), 'history', slug, '.project_root')]) {
    const owner = readMarker(m);
    if (owner !== null && resolve(owner) !== key) throw new RoamError(ErrorCodes.USAGE, `Gemini CLI's project "${slug}" here is marked as ${owner}'s (${m}), not ${key}'s; run gemini once in ${key} to let it settle which project it is, then import`, { slug, dir: key });
  }
  const chats = join(adapter.root(), 'tmp', slug, 'chats');
  const inChats = names(chats);
  const taken = async (id: string): Promise<boolean> => {
    const id8 = `-${id.slice(0, 8).toLowerCase()}.json`;
    return inChats.some((n) => n === id || n.toLowerCase().endsWith(id8) || n.toLowerCase().endsWith(`${id8}l`)) || (await adapter.find(id)) !== null;
  };
  let id = original;
  if (!UUID.test(original) || (await taken(original))) {
    do id = newId();
    while (await taken(id));
  }
  const renamed = id !== original;
  const hash = projectHash(key);
  const text = raw.toString('utf8');
  let legacy: Record<string, unknown> | null = null;
  if (text.trimStart().startsWith('{') && !text.trimEnd().includes('\n{')) {
    try {
      const o = JSON.parse(text) as unknown;
      if (o && typeof o === 'object' && !Array.isArray(o) && Array.isArray((o as Record<string, unknown>).messages)) legacy = o as Record<string, unknown>;
    } catch {
      // not one JSON object: JSONL
    }
  }
  let bytes: Buffer;
  let file = geminiFileName(id, new Date(now));
  if (legacy) {
    if (legacy.sessionId === original) legacy.sessionId = id;
    legacy.projectHash = hash;
    bytes = Buffer.from(JSON.stringify(legacy, null, 2), 'utf8');
    file = file.replace(/\.jsonl$/, '.json');
  } else {
    bytes = rewriteLines(raw, '"sessionId"', (o) => {
      let changed = false;
      if (typeof o.sessionId === 'string' && typeof o.projectHash === 'string') {
        if (o.sessionId === original && renamed) (o.sessionId = id), (changed = true);
        if (o.projectHash !== hash) (o.projectHash = hash), (changed = true);
      }
      const set = o.$set as Record<string, unknown> | undefined;
      if (set && typeof set === 'object' && set.sessionId === original && renamed) (set.sessionId = id), (changed = true);
      return changed;
    });
  }
  const transcript = join(chats, file);
  const warnings: string[] = [];
  const stale = retentionCutoff(adapter.root(), now);
  const last = parseGeminiSession(text)?.lastUpdated ?? null;
  if (stale && last !== null && Date.parse(last) < stale.cutoff) {
    warnings.push(`Gemini CLI's session cleanup (general.sessionRetention, maxAge ${stale.maxAge}) deletes sessions last updated before ${new Date(stale.cutoff).toISOString().slice(0, 10)}, as this one was (${last}), whenever it starts in this project: resume it first (gemini --resume ${id}), which makes it current, or turn the cleanup off in ${join(adapter.root(), 'settings.json')}`);
  }
  const subDir = join(chats, id);
  const files: PlannedFile[] = [];
  for (const [name, b] of bundle.files) {
    if (name === SESSION_FILE) continue;
    const path = join(subDir, ...name.slice('subagents/'.length).split('/'));
    if (!inside(path, subDir)) throw new RoamError(ErrorCodes.PATH_ESCAPE, `${name} would be written outside ${subDir}`, { name });
    files.push({ path, bytes: b });
  }
  files.push({ path: transcript, bytes });
  return {
    tool: 'gemini', originalId: original, id, renamed, transcript, files, command: adapter.resumeCommand(id, { cwd: key }),
    after: { describe: `${key} filed under Gemini CLI project "${slug}"`, run: () => adapter.registerProject(key, slug) },
    ...(warnings.length ? { warnings } : {}),
  };
}

/**
 * When Gemini CLI's session cleanup is on (settings.json `general.sessionRetention`: on, maxAge
 * "30d" by default in 0.61), the time before which it deletes a session (its `lastUpdated`) at
 * start-up, unless it is the session being resumed (measured, docs/SHARE.md); null when off.
 */
function retentionCutoff(root: string, now: number): { maxAge: string; cutoff: number } | null {
  let r: { enabled?: unknown; maxAge?: unknown } | undefined;
  try {
    r = (JSON.parse(readFileSync(join(root, 'settings.json'), 'utf8')) as { general?: { sessionRetention?: typeof r } }).general?.sessionRetention;
  } catch {
    r = undefined;
  }
  if (r?.enabled === false) return null;
  const maxAge = typeof r?.maxAge === 'string' ? r.maxAge : '30d';
  const m = /^(\d+)([dhwm])$/.exec(maxAge);
  if (!m || m[1] === '0') return null; // the CLI skips an age it cannot read
  const unit = { h: 3_600_000, d: 86_400_000, w: 604_800_000, m: 2_592_000_000 }[m[2] as 'h' | 'd' | 'w' | 'm'];
  return { maxAge, cutoff: now - Number(m[1]) * unit };
}
