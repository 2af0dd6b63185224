/**
 * `roam map [<project> <directory>] [--json]`: how the projects of Claude Code's folder are placed on
 * this device. Each project has one name on the wire (its path relative to the home directory, or
 * its absolute path outside it) and one key directory here; `roam map <project> <directory>` puts a
 * project from another device in another directory here (its files move; the other devices see
 * nothing change). The list works without roamd (what it last recorded); moving needs it.
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { ErrorCodes, RoamError } from '@roam/core/errors';
import type { Io } from '../io.js';
import { call } from '../control/client.js';
import { roamPaths } from '../machine/paths.js';
import { OFFLINE_NOTE, localProjectMap, orOffline } from './helpers/local-state.js';
import { displayWire, wireOfDisplay } from './helpers/wire-display.js';

export async function map(project: string | undefined, dir: string | undefined, opts: { json?: boolean }, io: Io): Promise<void> {
  const socket = roamPaths().socket;
  if ((project === undefined) !== (dir === undefined)) throw new RoamError(ErrorCodes.USAGE, 'give both a project and a directory, or neither');
  if (project !== undefined && dir !== undefined) {
    const { projects } = await call(socket, 'map');
    const wire = wireOfDisplay(project, projects.flatMap((p) => p.wires));
    const path = resolve(dir);
    if (!existsSync(path)) throw new RoamError(ErrorCodes.USAGE, `${path} does not exist`);
    const r = await call(socket, 'map', { wire, path });
    if (opts.json) io.out(JSON.stringify(r, null, 2));
    // Given a wire name and a path, roamd answers with the move it made.
    else io.out(`${displayWire(wire)} → ${path} (key ${r.changed!.to}); moved ${r.changed!.moved} file(s)`);
    return;
  }
  // Without roamd: the placement it last recorded (projects.json); projects it has not met yet are not in it.
  const { value: { projects }, live } = await orOffline(() => call(socket, 'map'), () => ({ projects: localProjectMap() }));
  if (!live) io.err(`roam: ${OFFLINE_NOTE} (the placement roamd last recorded; projects it has not seen yet are missing, and moving one needs it running)`);
  if (opts.json) {
    io.out(JSON.stringify(projects.map((p) => ({ ...p, display: p.wires.map(displayWire) })), null, 2));
    return;
  }
  if (!projects.length) {
    io.out('no projects yet');
    return;
  }
  for (const p of projects) {
    const names = p.wires.length ? p.wires.map(displayWire).join(', ') : displayWire(p.wire);
    io.out(`${names}\n    here: ${p.path ?? '(no directory known)'}  key ${p.key}  (${p.how})`);
  }
}
