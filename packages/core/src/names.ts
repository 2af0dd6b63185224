/**
 * Item names: paths relative to their folder, POSIX separators. Every name that comes from the
 * wire or from a peer passes `validateName` before anything touches the disk.
 */
import { ErrorCodes, RoamError } from './errors.js';
import { utf8 } from './bytes.js';

export const MAX_NAME_BYTES = 4096;
export const MAX_COMPONENT_BYTES = 255;
export const MAX_DEPTH = 64;

/** Returns the name unchanged, or throws ROAM_PATH_INVALID / ROAM_PATH_ESCAPE. */
export function validateName(name: unknown): string {
  const bad = (why: string, code: typeof ErrorCodes.PATH_INVALID | typeof ErrorCodes.PATH_ESCAPE = ErrorCodes.PATH_INVALID): never => {
    throw new RoamError(code, `refused item name ${JSON.stringify(String(name)).slice(0, 200)}: ${why}`, { name: String(name).slice(0, 512) });
  };
  if (typeof name !== 'string') return bad('not a string');
  if (name.length === 0) return bad('empty');
  if (utf8.encode(name).length > MAX_NAME_BYTES) return bad(`longer than ${MAX_NAME_BYTES} bytes`);
  if (name.includes('\0')) return bad('contains NUL');
  if (name.includes('\\')) return bad('contains a backslash');
  if (name.startsWith('/') || /^[A-Za-z]:/.test(name)) return bad('absolute path', ErrorCodes.PATH_ESCAPE);
  const parts = name.split('/');
  if (parts.length > MAX_DEPTH) return bad(`deeper than ${MAX_DEPTH} levels`);
  for (const p of parts) {
    if (p === '') return bad('empty path component');
    if (p === '.') return bad('"." component');
    if (p === '..') return bad('".." component', ErrorCodes.PATH_ESCAPE);
    if (utf8.encode(p).length > MAX_COMPONENT_BYTES) return bad(`component longer than ${MAX_COMPONENT_BYTES} bytes`);
    for (let i = 0; i < p.length; i++) if (p.charCodeAt(i) < 0x20) return bad('contains a control character');
  }
  return name;
}

/** Files whose name ends in `.jsonl` replicate as line logs; everything else as whole files. */
export function isLogName(name: string): boolean {
  return name.endsWith('.jsonl');
}

/** Split `dir/stem.ext` into directory prefix, stem and extension (last dot, as Syncthing does). */
export function splitName(name: string): { dir: string; stem: string; ext: string } {
  const slash = name.lastIndexOf('/');
  const dir = name.slice(0, slash + 1);
  const base = name.slice(slash + 1);
  const dot = base.lastIndexOf('.');
  if (dot <= 0) return { dir, stem: base, ext: '' };
  return { dir, stem: base.slice(0, dot), ext: base.slice(dot) };
}
