/**
 * This device's leases, and the file that publishes them with its projects' git remotes and its
 * home directory (machine/leases.ts, the file's format and its readers): which sessions a tool is
 * writing here now (Claude Code's live-session registry, or a log that grew within
 * WRITE_LEASE_MS), rewritten in roam's shared folder when they change or a heartbeat is due.
 */
import { existsSync, mkdirSync, renameSync, watch, writeFileSync, type FSWatcher } from 'node:fs';
import { join } from 'node:path';
import type { Engine } from '@roam/core';
import type { LeasesResult } from '../control/results.js';
import { liveClaudeSessions } from '../tools/claude/live.js';
import type { FolderSpec } from '../machine/config.js';
import { gitIdentity } from '../machine/git.js';
import { importedWrites } from '../machine/imported.js';
import { ACTIVE_MS, HEARTBEAT_MS, LEASE_TTL_MS, SHARED_FOLDER, TICK_MS, WRITE_LEASE_MS, deviceHome, readShared, type Lease, type SharedInfo } from '../machine/leases.js';
import type { ProjectNames } from '../machine/project-names.js';
import type { ToolName } from '../sessions/types.js';
import { rememberedHeadIds, sessionOfItem } from './activity.js';

/**
 * What decides a rewrite before the heartbeat is due: everything but the heartbeat itself and each
 * lease's `lastActive`, which moves with every line the tool writes (or every tick, for a session
 * open in the tool's registry). Rewriting for it sent the file to every peer on each appended line
 * (about 1.7 KB on the wire beside the line's own 2 KB); the heartbeat carries it at most
 * HEARTBEAT_MS late.
 */
function substance(info: SharedInfo): string {
  return JSON.stringify({ ...info, updatedAt: 0, leases: info.leases.map((l) => ({ ...l, lastActive: 0 })) });
}

/** Writes this device's file atomically when its content (heartbeat aside) changed or a heartbeat is due. */
export function writeShared(dir: string, info: SharedInfo, previous: SharedInfo | null): boolean {
  const same = previous && substance(previous) === substance(info);
  const heartbeatDue = info.leases.length > 0 && (!previous || info.updatedAt - previous.updatedAt >= HEARTBEAT_MS);
  if (same && !heartbeatDue && existsSync(join(dir, `${info.device}.json`))) return false;
  mkdirSync(dir, { recursive: true });
  // Written beside the folder (same file system), so the watcher never sees a half-written file.
  const tmp = join(dir, '..', `shared-${info.device}.json.tmp`);
  writeFileSync(tmp, `${JSON.stringify(info, null, 1)}\n`);
  renameSync(tmp, join(dir, `${info.device}.json`));
  return true;
}

export interface LeasesContext {
  readonly env: NodeJS.ProcessEnv;
  /** roam's shared folder: one file per device. */
  readonly sharedDir: string;
  /** The state directory (`roam import`'s own writes are recorded there). */
  readonly stateDir: string;
  readonly folders: () => readonly FolderSpec[];
  /** Undefined until the engine is open: nothing is published before. */
  readonly engine: () => Engine | undefined;
  readonly deviceId: () => string;
  readonly name: () => string;
  readonly projectNames: () => ProjectNames | null;
  readonly log: (line: string) => void;
}

export class Leases {
  /** Sessions whose log grew here: id → first and last time. */
  private readonly activity = new Map<string, { tool: ToolName; since: number; last: number; project: string | null }>();
  private readonly leaseSince = new Map<string, number>();
  /** Gemini sessions' ids, read once from each file's first line. */
  /** The session id each Claude Code log was last seen to carry (partial-tail.ts asks it too). */
  readonly headIds = rememberedHeadIds();
  /** Whether a change is `roam import`'s own write (no lease: machine/imported.ts). */
  private readonly importedWrite: ReturnType<typeof importedWrites>;
  private shared: SharedInfo | null = null;
  private tick: NodeJS.Timeout | null = null;
  /** Claude Code's live-session registry, watched so a session closed here is released at once. */
  private registryWatch: FSWatcher | null = null;
  private registryTimer: NodeJS.Timeout | null = null;

  constructor(private readonly ctx: LeasesContext) {
    this.importedWrite = importedWrites(ctx.stateDir);
  }

  /** Publishes now, then looks again every TICK_MS and whenever Claude Code's registry changes. */
  start(): void {
    this.refresh();
    this.tick = setInterval(() => {
      if (!this.registryWatch) this.watchRegistry();
      this.refresh();
    }, TICK_MS);
    this.tick.unref();
    this.watchRegistry();
  }

  stop(): void {
    if (this.tick) clearInterval(this.tick);
    if (this.registryTimer) clearTimeout(this.registryTimer);
    this.registryWatch?.close();
  }

  /** The leases of this device and of the devices whose heartbeat is fresh (all, or one session's): `leases`. */
  view(session: string | null): LeasesResult {
    const now = Date.now();
    const wanted = (l: Lease) => session === null || l.session === session;
    const mine = this.own(now).filter(wanted).map((l) => ({ ...l, device: this.ctx.deviceId(), name: this.ctx.name(), self: true, heartbeat: now }));
    const others = this.others(now).flatMap((d) => d.leases.filter(wanted).map((l) => ({ ...l, device: d.device, name: d.name, self: false, heartbeat: d.updatedAt })));
    return { now, ttlMs: LEASE_TTL_MS, leases: [...mine, ...others] };
  }

  /** Why a session may not be removed now: who holds it (`roam rm` without --force). */
  busy(session: string): string[] {
    const now = Date.now();
    return [
      ...this.own(now).filter((l) => l.session === session).map((l) => (l.pid !== null ? `it is open here (pid ${l.pid})` : 'it is being written here')),
      ...this.others(now).flatMap((d) => d.leases.filter((l) => l.session === session).map(() => `${d.name} is using it`)),
    ];
  }

  /** The other devices' files whose heartbeat is fresh. */
  private others(now: number): SharedInfo[] {
    return readShared(this.ctx.sharedDir).filter((d) => d.device !== this.ctx.deviceId() && now - d.updatedAt <= LEASE_TTL_MS);
  }

  noteActivity(folder: string, root: string, changes: readonly { change: string; state: { name: string; mtimeMs: number; size: number } }[]): void {
    const now = Date.now();
    for (const c of changes) {
      if (c.change === 'delete') continue;
      // A log last written long ago was found, not written: the first index of a folder, or what
      // changed while roamd was down. Leasing those made every session of a 10,000-file folder
      // "being written here" for a minute (a 0.5 MB shared file sent to every peer, and resume
      // refused everywhere else).
      if (now - c.state.mtimeMs >= ACTIVE_MS) continue;
      const s = sessionOfItem(folder, root, c.state.name, this.headIds);
      // `roam import` wrote it whole: no tool is writing it (machine/imported.ts).
      if (!s || this.importedWrite(s.session, c.state.size, now)) continue;
      const prev = this.activity.get(s.session);
      this.activity.set(s.session, { tool: s.tool, since: prev && now - prev.last < WRITE_LEASE_MS ? prev.since : now, last: now, project: s.project });
    }
    if (changes.length) this.refresh();
  }

  private claudeConfigDir(): string | null {
    const f = this.ctx.folders().find((x) => x.id === 'claude');
    return f ? join(f.path, '..') : null;
  }

  /**
   * The leases this device holds now. Claude Code registers each open session (its live-session
   * registry): a session open there is leased, and once the registry exists, a session written to
   * by a process that has exited is not (the user stopped, and may walk to another device at once).
   * Without a registry (the other tools, older Claude Code) a session whose log grew here in the last
   * WRITE_LEASE_MS is leased.
   */
  own(now: number): Lease[] {
    const out: Lease[] = [];
    const dir = this.claudeConfigDir();
    const registry = dir !== null && existsSync(join(dir, 'sessions'));
    for (const l of dir ? liveClaudeSessions(dir) : []) {
      if (out.some((x) => x.session === l.sessionId)) continue;
      const a = this.activity.get(l.sessionId);
      out.push({ tool: 'claude', session: l.sessionId, project: a?.project ?? null, since: this.leaseSince.get(l.sessionId) ?? now, lastActive: Math.max(a?.last ?? 0, now), pid: l.pid, cwd: l.cwd });
    }
    for (const [id, a] of this.activity) {
      if (now - a.last >= WRITE_LEASE_MS) {
        this.activity.delete(id);
        continue;
      }
      // Claude Code's registry, where it exists, says which sessions are open: growth alone is no lease then.
      if (!(registry && a.tool === 'claude') && !out.some((x) => x.session === id)) out.push({ tool: a.tool, session: id, project: a.project, since: a.since, lastActive: a.last, pid: null, cwd: null });
    }
    for (const l of out) if (!this.leaseSince.has(l.session)) this.leaseSince.set(l.session, l.since);
    for (const id of [...this.leaseSince.keys()]) if (!out.some((x) => x.session === id)) this.leaseSince.delete(id);
    return out;
  }

  /**
   * Watches Claude Code's live-session registry: a session opened or closed here changes this
   * device's leases within ~100 ms rather than at the next tick, so a user who quits the CLI and
   * walks to another device is not refused there by a lease that is already over.
   */
  private watchRegistry(): void {
    const dir = this.claudeConfigDir();
    if (!dir) return;
    try {
      this.registryWatch = watch(join(dir, 'sessions'), () => {
        if (this.registryTimer) return;
        this.registryTimer = setTimeout(() => {
          this.registryTimer = null;
          this.refresh();
        }, 100);
      });
      this.registryWatch.on('error', () => undefined);
      this.registryWatch.unref();
    } catch {
      // No registry yet (an older CLI, or Claude Code never ran here): the tick covers it.
    }
  }

  /** Rewrites this device's file in the shared folder when something changed or a heartbeat is due. */
  refresh(): void {
    const engine = this.ctx.engine();
    if (!engine || !this.ctx.sharedDir) return;
    try {
      const now = Date.now();
      const projects: SharedInfo['projects'] = {};
      for (const e of this.ctx.projectNames()?.entries() ?? []) {
        if (!e.path || e.how === 'missing' || e.how === 'raw') continue;
        const g = gitIdentity(e.path);
        if (g) projects[e.wire] = { remote: g.remote, sub: g.sub };
      }
      const info: SharedInfo = { v: 1, device: this.ctx.deviceId(), name: this.ctx.name(), updatedAt: now, leases: this.own(now), projects, home: deviceHome(this.ctx.env) };
      if (writeShared(this.ctx.sharedDir, info, this.shared)) {
        this.shared = info;
        void engine.scan(SHARED_FOLDER, [`${this.ctx.deviceId()}.json`]);
      }
    } catch (err) {
      this.ctx.log(`writing this device's shared state: ${String(err)}`);
    }
  }
}
