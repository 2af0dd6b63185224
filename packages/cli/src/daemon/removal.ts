/**
 * `roam rm` and `roam restore` on roamd's side: a session's files deleted on every device (the
 * engine's `removeEverywhere`), each copy into its device's trash; what this device's trash holds;
 * an entry, or a session's files, put back as new local changes, so they reach the other devices
 * again; and the trash's expiry after TRASH_DAYS.
 */
import { realpath } from 'node:fs/promises';
import { join, posix, relative, sep } from 'node:path';
import { ErrorCodes, RoamError, type Engine } from '@roam/core';
import type { FsFolderStore } from '@roam/core/node';
import type { Handlers, ParamsOf, Untrusted } from '../control/methods.js';
import type { RemoveResult, RestoreResult, TrashView } from '../control/results.js';
import type { FolderSpec } from '../machine/config.js';
import { SHARED_FOLDER } from '../machine/leases.js';
import type { ProjectNames } from '../machine/project-names.js';
import { TRASH_DAYS, sessionIdOfItem, trashId } from '../machine/trash.js';
import type { Leases } from './leases.js';
import { sessionStateItems } from './session-state.js';

export interface RemovalContext {
  readonly engine: () => Engine;
  readonly folders: () => readonly FolderSpec[];
  /** Each folder's file store (under the mapped one for Claude Code): its trash is `roam restore`'s. */
  readonly fsStores: ReadonlyMap<string, FsFolderStore>;
  readonly projectNames: () => ProjectNames | null;
  readonly leases: Leases;
  readonly log: (line: string) => void;
  /** HOME and the tools' variables: where the tools' state folders are. */
  readonly env: NodeJS.ProcessEnv;
}

export class Removal {
  private trashTimer: NodeJS.Timeout | null = null;

  constructor(private readonly ctx: RemovalContext) {}

  /**
   * `rm`: a session's files deleted on every device (the engine's `removeEverywhere`), each copy
   * into its device's trash. `trash`: what this device's trash holds. `restore`: an entry, or a
   * session's files, put back as new local changes, so they reach the other devices again.
   */
  handlers(): Pick<Handlers, 'rm' | 'trash' | 'restore'> {
    return {
      rm: async (params) => this.removeSession(params),
      trash: async () => ({ entries: await this.trashEntries(), keepDays: TRASH_DAYS }),
      restore: async (params) => this.restore(params),
    };
  }

  stop(): void {
    if (this.trashTimer) clearInterval(this.trashTimer);
  }

  /** Claude Code's items are stored under this device's project keys; other folders' names are the wire's. */
  private toLocal(folder: string, name: string): string {
    const names = this.ctx.projectNames();
    return folder === 'claude' && names ? names.toLocal(name) : name;
  }

  private toWire(folder: string, name: string): string {
    const names = this.ctx.projectNames();
    return folder === 'claude' && names ? names.toWire(name) : name;
  }

  private async removeSession(params: Untrusted<ParamsOf<'rm'>>): Promise<RemoveResult> {
    const ref = typeof params.session === 'string' ? params.session.trim() : '';
    if (!ref) throw new RoamError(ErrorCodes.USAGE, 'name the session to remove');
    const file = typeof params.file === 'string' ? params.file : null;
    const found = file ? await this.sessionByFile(ref, file) : this.sessionByName(ref);
    const { folder, id, names } = found;
    if (!params.force) {
      const busy = this.ctx.leases.busy(id);
      if (busy.length) throw new RoamError(ErrorCodes.SESSION_BUSY, `session ${id} is in use: ${busy.join('; ')}. Stop it first, or remove it anyway with --force`, { id });
    }
    const local = (name: string) => this.toLocal(folder, name);
    const root = this.ctx.folders().find((f) => f.id === folder)!.path;
    const here = new Set(this.ctx.engine().replicator.localItems(folder).filter((m) => !m.deleted).map((m) => m.name));
    // The session's state in the tool's state folders (Claude Code's file-history/, tasks/, plans/…).
    const state = sessionStateItems(this.ctx.engine(), this.ctx.folders(), this.ctx.env, folder, id, join(root, ...local(names[0]!).split('/')));
    if (params.dryRun) {
      const stateHere = (f: string) => new Set(this.ctx.engine().replicator.localItems(f).filter((m) => !m.deleted).map((m) => m.name));
      return {
        session: id, folder, dryRun: true,
        items: [
          ...names.map((name) => ({ name, path: join(root, ...local(name).split('/')), here: here.has(name), removed: false })),
          ...state.flatMap((s) => s.names.map((name) => ({ name, folder: s.folder, path: join(s.root, ...name.split('/')), here: stateHere(s.folder).has(name), removed: false }))),
        ],
      };
    }
    const stateResults = [];
    for (const s of state) {
      for (const r of await this.ctx.engine().removeEverywhere(s.folder, s.names)) stateResults.push({ name: r.name, folder: s.folder, path: join(s.root, ...r.name.split('/')), here: r.wasHere, removed: r.removed });
    }
    if (stateResults.length) this.ctx.log(`roam rm ${id}: ${stateResults.filter((r) => r.removed).length} file(s) of its state (${state.map((s) => s.folder).join(', ')}) removed on every device`);
    const results = await this.ctx.engine().removeEverywhere(folder, names);
    const failed = results.filter((r) => !r.removed && r.wasHere);
    this.ctx.log(`roam rm ${id}: ${results.filter((r) => r.removed).length} file(s) of ${folder} removed on every device${failed.length ? `; ${failed.length} changed while being removed` : ''}`);
    if (failed.length) {
      throw new RoamError(ErrorCodes.STORE_CONFLICT, `session ${id}: ${failed.map((r) => r.name).join(', ')} changed while being removed (a tool is writing it); nothing of those was deleted, the rest was`, { id });
    }
    return { session: id, folder, dryRun: false, items: [...results.map((r) => ({ name: r.name, path: join(root, ...local(r.name).split('/')), here: r.wasHere, removed: r.removed })), ...stateResults] };
  }

  /** The folder and item names of a session whose transcript is `file` on this device. */
  private async sessionByFile(id: string, file: string): Promise<{ folder: string; id: string; names: string[] }> {
    const real = await realpath(file).catch(() => file);
    for (const f of this.ctx.folders()) {
      if (f.id === SHARED_FOLDER) continue;
      const root = await realpath(f.path).catch(() => f.path);
      const rel = relative(root, real);
      if (!rel || rel.startsWith('..') || rel.startsWith(sep)) continue;
      const localName = rel.split(sep).join('/');
      const name = this.toWire(f.id, localName);
      return { folder: f.id, id, names: this.sessionItems(f.id, name, id) };
    }
    throw new RoamError(ErrorCodes.USAGE, `session ${id} (${file}) is not in a folder roam syncs; delete it with its tool`);
  }

  /**
   * A session this device does not hold (deleted here, or never fetched) found by its id in the
   * folders' item names, here or on peers: Claude Code's `<project>/<id>.jsonl`, Codex's
   * `…/rollout-…-<id>.jsonl`, Copilot's `<id>/events.jsonl`. (Gemini names its files by time.)
   */
  private sessionByName(ref: string): { folder: string; id: string; names: string[] } {
    const hits = new Map<string, { folder: string; id: string; name: string }>();
    for (const f of this.ctx.folders()) {
      if (f.id === SHARED_FOLDER) continue;
      const names = new Set([...this.ctx.engine().replicator.localItems(f.id).filter((m) => !m.deleted).map((m) => m.name), ...this.ctx.engine().replicator.peerItems(f.id)]);
      for (const name of names) {
        const id = sessionIdOfItem(f.id, name);
        if (id && id.startsWith(ref)) hits.set(`${f.id}:${id}`, { folder: f.id, id, name });
      }
    }
    const list = [...hits.values()];
    if (!list.length) throw new RoamError(ErrorCodes.SESSION_NOT_FOUND, `no session ${ref} here or on the devices this one has seen`, { id: ref });
    if (list.length > 1) throw new RoamError(ErrorCodes.USAGE, `${list.length} sessions start with ${ref}: ${list.slice(0, 10).map((h) => h.id).join(', ')}`, { id: ref });
    const h = list[0]!;
    return { folder: h.folder, id: h.id, names: this.sessionItems(h.folder, h.name, h.id) };
  }

  /**
   * A session's items (wire names): its transcript, everything under the directory beside it named
   * by its id (Claude Code's `<id>/subagents/`, `<id>/tool-results/`; Gemini's sub-agents), and
   * when the transcript's own directory is named by the id (Copilot), everything in it. Items only
   * peers hold count too: the delete reaches them.
   */
  private sessionItems(folder: string, name: string, id: string): string[] {
    const dir = posix.dirname(name);
    const prefix = dir === '.' ? '' : `${dir}/`;
    const own = posix.basename(dir) === id;
    const all = new Set([...this.ctx.engine().replicator.localItems(folder).filter((m) => !m.deleted).map((m) => m.name), ...this.ctx.engine().replicator.peerItems(folder), name]);
    return [...all].filter((n) => n === name || n.startsWith(`${prefix}${id}/`) || (own && n.startsWith(prefix))).sort((a, b) => (a === name ? -1 : b === name ? 1 : a < b ? -1 : 1));
  }

  /** Every folder's trash, newest first, with short ids to pass back to `restore`. */
  private async trashEntries(): Promise<TrashView[]> {
    const out: TrashView[] = [];
    for (const [folder, store] of this.ctx.fsStores) {
      if (folder === SHARED_FOLDER) continue;
      const root = this.ctx.folders().find((f) => f.id === folder)!.path;
      for (const e of await store.listTrash()) {
        const name = this.toWire(folder, e.name);
        out.push({ id: trashId(folder, e), folder, entry: e.entry, name, path: join(root, ...e.name.split('/')), session: sessionIdOfItem(folder, name), deletedAt: e.deletedAt, size: e.size });
      }
    }
    return out.sort((a, b) => b.deletedAt - a.deletedAt || (a.id < b.id ? -1 : 1));
  }

  private async restore(params: Untrusted<ParamsOf<'restore'>>): Promise<RestoreResult> {
    const ref = typeof params.ref === 'string' ? params.ref.trim() : '';
    if (!ref) throw new RoamError(ErrorCodes.USAGE, 'name a trash entry or a session to restore (see `roam restore --list`)');
    const entries = await this.trashEntries();
    let chosen = entries.filter((e) => e.id === ref || `${e.folder}:${e.entry}` === ref);
    if (!chosen.length) {
      const sessions = new Set(entries.filter((e) => e.session !== null && e.session.startsWith(ref)).map((e) => e.session!));
      if (sessions.size > 1) throw new RoamError(ErrorCodes.USAGE, `${sessions.size} sessions in the trash start with ${ref}: ${[...sessions].slice(0, 10).join(', ')}`);
      if (!sessions.size) throw new RoamError(ErrorCodes.SESSION_NOT_FOUND, `nothing in the trash is ${ref} (neither an entry id nor a session; see \`roam restore --list\`)`, { id: ref });
      const session = [...sessions][0]!;
      // The newest copy of each of the session's files (entries are newest first).
      const seen = new Set<string>();
      chosen = entries.filter((e) => e.session === session && !seen.has(`${e.folder}\u0000${e.name}`) && seen.add(`${e.folder}\u0000${e.name}`));
    }
    const restored: TrashView[] = [];
    const skipped: TrashView[] = [];
    const scans = new Map<string, string[]>();
    for (const e of chosen) {
      const store = this.ctx.fsStores.get(e.folder)!;
      try {
        await this.ctx.engine().exclusive(() => store.restoreFromTrash(e.entry));
        restored.push(e);
        scans.set(e.folder, [...(scans.get(e.folder) ?? []), e.name]);
      } catch (err) {
        // One entry named: its error is the answer. A session: files that exist already stay as they are.
        if (chosen.length === 1 || !(err instanceof RoamError) || err.code !== ErrorCodes.STORE_CONFLICT) throw err;
        skipped.push(e);
      }
    }
    // Recorded now (the watcher would too): a new version of each, which the peers take.
    for (const [folder, names] of scans) await this.ctx.engine().scan(folder, names);
    if (!restored.length) throw new RoamError(ErrorCodes.STORE_CONFLICT, `every file of ${ref} in the trash exists already: ${skipped.map((e) => e.path).join(', ')}`);
    this.ctx.log(`roam restore ${ref}: ${restored.length} file(s) restored${skipped.length ? `, ${skipped.length} left in the trash (the file exists)` : ''}`);
    return { restored, skipped };
  }

  /** Trash entries older than TRASH_DAYS go, at start and then daily; never a younger one. */
  startExpiry(): void {
    const expire = async () => {
      for (const [folder, store] of this.ctx.fsStores) {
        const n = await store.expireTrash(TRASH_DAYS * 86_400_000).catch((err: unknown) => {
          this.ctx.log(`expiring ${folder}'s trash: ${String(err)}`);
          return 0;
        });
        if (n) this.ctx.log(`removed ${n} trash folder(s) of ${folder} older than ${TRASH_DAYS} days`);
      }
    };
    void expire();
    this.trashTimer = setInterval(() => void expire(), 86_400_000);
    this.trashTimer.unref();
  }
}
