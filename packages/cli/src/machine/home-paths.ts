/**
 * Paths in the union logs (docs/PROTOCOL.md, "Union logs"): a path a tool recorded on this device
 * travels home-relative (`~/code/app`, `~` for home itself; a path outside the home as it is), and
 * is placed on each device where that project is: a `roam map` entry for its wire name, else the
 * same home-relative directory when it exists here; otherwise it stays home-relative, so a prompt
 * about a project this device does not have still arrives, unplaced.
 */
import { realpathSync, statSync } from 'node:fs';
import { isAbsolute, join, normalize, sep } from 'node:path';
import { nameAgainstHome } from './wire-names.js';

function real(p: string): string | null {
  try {
    return realpathSync(p);
  } catch {
    return null;
  }
}

export interface HomePaths {
  /** A path recorded here → its canonical form. */
  toWire(path: string): string;
  /** A canonical path → this device's path for it (home-relative still when no project is here). */
  toLocal(canon: string): string;
}

/** The mapping of a device with this home and these `roam map` entries (wire name → directory here). */
export function homePaths(home: string, overrides: () => Readonly<Record<string, string>> = () => ({})): HomePaths {
  const homes = [...new Set([normalize(home).replace(/(.)\/+$/, '$1'), real(home) ?? normalize(home)])];
  const toWire = (path: string): string => {
    if (!isAbsolute(path)) return path;
    const p = normalize(path).replace(/(.)\/+$/, '$1');
    for (const h of homes) {
      if (p === h) return '~';
      if (p.startsWith(h.endsWith(sep) ? h : h + sep)) return `~/${p.slice(h.length).replace(/^\/+/, '')}`;
    }
    return path;
  };
  const toLocal = (canon: string): string => {
    if (canon !== '~' && !canon.startsWith('~/')) return canon;
    const realHome = homes[homes.length - 1]!;
    const here = canon === '~' ? realHome : join(realHome, canon.slice(2));
    const override = overrides()[nameAgainstHome(here, realHome)];
    if (override && isDir(override)) return real(override) ?? override;
    return isDir(here) ? real(here) ?? here : canon;
  };
  return { toWire, toLocal };
}

function isDir(p: string): boolean {
  return statSync(p, { throwIfNoEntry: false })?.isDirectory() === true;
}
