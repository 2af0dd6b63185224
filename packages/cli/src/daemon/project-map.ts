/**
 * Claude Code's projects placed on this device (`roam map`): each wire name points at a key
 * directory here; a project moves when the user names its directory, or when a peer publishes the
 * git remote of a project whose directory does not exist here (machine/project-names.ts decides).
 */
import { ErrorCodes, RoamError, type Engine } from '@roam/core';
import type { MappedProject, ProjectMove } from '../control/results.js';
import type { ProjectNames } from '../machine/project-names.js';
import type { MappedStore } from './mapped-store.js';

export interface ProjectMapContext {
  readonly engine: () => Engine;
  /** Claude Code's projects folder: wire names ↔ this device's project keys (null: not synced here). */
  readonly names: () => ProjectNames | null;
  readonly store: () => MappedStore | null;
  readonly log: (line: string) => void;
}

export class ProjectMap {
  constructor(private readonly ctx: ProjectMapContext) {}

  /** Projects stored under a directory that does not exist here, now found by a git remote a peer published. */
  async remapByRemote(): Promise<void> {
    const names = this.ctx.names();
    if (!names) return;
    for (const wire of Object.keys(names.wires())) {
      const better = names.betterPath(wire);
      if (better) await this.remap(wire, better, 'git remote');
    }
  }

  /** Points a project's wire name at a directory here and moves its files to that directory's key. */
  async remap(wire: string, path: string, why: string): Promise<ProjectMove> {
    const names = this.ctx.names();
    const store = this.ctx.store();
    if (!names || !store) throw new RoamError(ErrorCodes.USAGE, 'this device does not sync Claude Code projects');
    const engine = this.ctx.engine();
    return engine.exclusive(async () => {
      const items = engine.replicator
        .localItems('claude')
        .filter((m) => !m.deleted && m.name.startsWith(`${wire}/`))
        .map((m) => names.toLocal(m.name));
      const { from, to } = names.remap(wire, path);
      const moved = from && from !== to ? await store.move(wire, from, to, items) : 0;
      this.ctx.log(`project ${wire} now lives in ${to} (${why}); moved ${moved} file(s)${from && from !== to ? ` from ${from}` : ''}`);
      return { wire, from, to, moved };
    });
  }

  entries(): MappedProject[] {
    const names = this.ctx.names();
    if (!names) return [];
    const wires = names.wires();
    return names.entries().map((e) => ({ ...e, wires: Object.keys(wires).filter((w) => wires[w] === e.key) }));
  }
}
