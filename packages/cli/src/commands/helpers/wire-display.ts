/** Claude Code projects' wire names as a person reads and types them (`roam map`, `roam projects`, `roam rm`, `roam restore`). */
import { ErrorCodes, RoamError } from '@roam/core/errors';
import { decodePath } from '../../machine/wire-names.js';

/** A wire name as a person reads it: `~/code/app`, `/work/app`, or the key it stands for. */
export function displayWire(wire: string): string {
  if (wire.startsWith('~')) return wire === '~' ? '~' : `~/${decodePath(wire.slice(1))}`;
  if (wire.startsWith('=')) return decodePath(wire.slice(1));
  return wire;
}

/** Accepts a project as shown (`~/code/app`, `/work/app`) or as its wire name. */
export function wireOfDisplay(s: string, known: readonly string[]): string {
  if (known.includes(s)) return s;
  const hit = known.find((w) => displayWire(w) === s || displayWire(w) === s.replace(/\/+$/, ''));
  if (hit) return hit;
  throw new RoamError(ErrorCodes.USAGE, `no project ${JSON.stringify(s)} here; \`roam map\` lists them`);
}
