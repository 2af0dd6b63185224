/**
 * A project's name on the wire, as text (no IO, no validation: project-names.ts validates what it
 * announces): `~<rel>` for a path relative to the home directory (`~` is home itself), `=<abs>` for
 * an absolute path outside it; in both, `%` is written `%25` and `/` is written `%2F`.
 */
import { join, relative, sep } from 'node:path';

export function encodePath(p: string): string {
  return p.replace(/%/g, '%25').replace(/\//g, '%2F');
}

export function decodePath(s: string): string {
  return s.replace(/%2F/gi, '/').replace(/%25/g, '%');
}

/** The name of a directory against a home directory (both absolute, normalised). */
export function nameAgainstHome(path: string, home: string): string {
  const rel = relative(home, path);
  if (rel === '') return '~';
  return !rel.startsWith('..') && !rel.startsWith(sep) && rel !== '..' ? `~${encodePath(rel.split(sep).join('/'))}` : `=${encodePath(path)}`;
}

/** The path a canonical wire name stands for on a device with this home, or null for a raw key. */
export function pathOfWire(wire: string, home: string): string | null {
  if (wire.startsWith('~')) return wire === '~' ? home : join(home, decodePath(wire.slice(1)));
  if (wire.startsWith('=')) return decodePath(wire.slice(1));
  return null;
}
