/**
 * Which project slug Gemini CLI files a directory under on this machine (docs/GEMINI.md):
 * `<root>/projects.json` (absolute path → slug, per machine and not synced) and the slugs'
 * ownership markers (`tmp/<slug>/.project_root`, `history/<slug>/.project_root`), read and written
 * as the CLI's ProjectRegistry does.
 */
import { randomUUID } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { ErrorCodes, RoamError } from '@roam/core/errors';
import type { SessionInfo } from '../../sessions/types.js';
import { isObj, slugify } from './session.js';

/** `projects.json`'s map: absolute path → slug (empty when missing or unreadable). */
export function projectsOf(root: string): Record<string, string> {
  try {
    const o = JSON.parse(readFileSync(join(root, 'projects.json'), 'utf8')) as { projects?: unknown };
    if (!isObj(o.projects)) return {};
    const out: Record<string, string> = {};
    for (const [k, v] of Object.entries(o.projects)) if (typeof v === 'string') out[k] = v;
    return out;
  } catch {
    return {};
  }
}


/**
 * The slug `dir` is filed under here: its projects.json entry, else the one the CLI would claim
 * (ProjectRegistry.claimNewSlug): the slugified directory name, then `-1`, `-2`, …, skipping slugs
 * projects.json gives another path and slugs whose ownership marker names another path.
 */
export function slugFor(root: string, dir: string): string {
  const key = resolve(dir);
  const projects = projectsOf(root);
  if (projects[key]) return projects[key]!;
  const taken = new Set(Object.values(projects));
  const base = slugify(basename(key));
  for (let i = 0; ; i++) {
    const slug = i === 0 ? base : `${base}-${i}`;
    if (taken.has(slug)) continue;
    const owners = [join(root, 'tmp', slug, '.project_root'), join(root, 'history', slug, '.project_root')].map(readMarker);
    if (owners.every((o) => o === null || resolve(o) === key)) return slug;
  }
}

/**
 * Files `dir` under `slug` for the CLI: its projects.json entry and the slug's ownership markers,
 * where missing (a slug from slugFor, so no marker names another path). Returns what it did.
 */
export function registerProject(root: string, dir: string, slug: string): string[] {
  const key = resolve(dir);
  const projects = projectsOf(root);
  const did: string[] = [];
  if (projects[key] !== slug) {
    if (projects[key] !== undefined) throw new RoamError(ErrorCodes.USAGE, `Gemini CLI files ${key} under its project "${projects[key]}" here, not "${slug}"`, { dir: key, slug });
    writeJsonAtomic(join(root, 'projects.json'), { projects: { ...projects, [key]: slug } });
    did.push(`registered ${key} as Gemini CLI project "${slug}" in ${join(root, 'projects.json')}`);
  }
  for (const m of [join(root, 'tmp', slug, '.project_root'), join(root, 'history', slug, '.project_root')]) {
    if (readMarker(m) !== null) continue;
    mkdirSync(dirname(m), { recursive: true });
    writeFileSync(m, key);
    did.push(`wrote ${m}`);
  }
  return did;
}

/**
 * Before `gemini --resume` in `dir`: make the CLI file `dir` under the slug the session is kept
 * under, so that it finds it (it looks only in its project's `chats/`). A session that came from
 * another device, where the project has another path, is under a slug this machine's
 * projects.json does not know, and whose ownership marker (`tmp/<slug>/.project_root`, which
 * the CLI checks against the directory; per machine, never synced: DEFAULT_IGNORES) is missing
 * here. Registers `dir` → slug in projects.json and writes the markers. Never takes a slug or a
 * directory that another existing project here has (ROAM_USAGE). Returns what it did, one line
 * each (empty: nothing was needed).
 */
export async function prepareResume(root: string, session: SessionInfo, dir: string): Promise<string[]> {
  const slug = session.projectKey;
  const projects = projectsOf(root);
  const key = resolve(dir);
  const markers = [join(root, 'tmp', slug, '.project_root'), join(root, 'history', slug, '.project_root')];
  const owners = markers.map((m) => readMarker(m));
  const mine = (o: string | null) => o === null || resolve(o) === key;
  if (projects[key] === slug && owners.every((o) => o !== null && mine(o))) return [];
  if (projects[key] !== undefined && projects[key] !== slug) {
    throw new RoamError(ErrorCodes.USAGE, `Gemini CLI files ${key} under its project "${projects[key]}" here, but session ${session.id} is kept under "${slug}" (${session.file}), where gemini --resume run here would not look; resume it from the directory of "${slug}" (${join(root, 'projects.json')} says which)`, { id: session.id, slug, dir: key });
  }
  const exists = (p: string) => statSync(p, { throwIfNoEntry: false })?.isDirectory() === true;
  const other = Object.entries(projects).find(([p, s]) => s === slug && p !== key);
  const owner = [other?.[0], ...owners].find((o): o is string => typeof o === 'string' && resolve(o) !== key && exists(o));
  if (owner) {
    throw new RoamError(ErrorCodes.USAGE, `Gemini CLI's project "${slug}", which holds session ${session.id}, belongs to ${owner} on this machine (${join(root, 'projects.json')}), not to ${key}, the session's project here; resume it from ${owner}, or remove that registration`, { id: session.id, slug, dir: owner, here: key });
  }
  const did: string[] = [];
  if (projects[key] !== slug) {
    const next = { ...projects };
    if (other) delete next[other[0]]; // a directory that does not exist here
    next[key] = slug;
    writeJsonAtomic(join(root, 'projects.json'), { projects: next });
    did.push(`registered ${key} as Gemini CLI project "${slug}" in ${join(root, 'projects.json')}${other ? ` (in place of ${other[0]}, which does not exist here)` : ''}`);
  }
  markers.forEach((m, i) => {
    const was = owners[i]!;
    if (was !== null && mine(was)) return;
    mkdirSync(dirname(m), { recursive: true });
    writeFileSync(m, key);
    did.push(was === null ? `wrote ${m}` : `rewrote ${m}, which named ${was} (a directory that does not exist here)`);
  });
  return did;
}

function readMarker(file: string): string | null {
  try {
    return readFileSync(file, 'utf8').trim() || null;
  } catch {
    return null;
  }
}

function writeJsonAtomic(file: string, value: unknown): void {
  mkdirSync(dirname(file), { recursive: true });
  const tmp = `${file}.${randomUUID()}.tmp`;
  writeFileSync(tmp, JSON.stringify(value, null, 2));
  renameSync(tmp, file);
}
