/**
 * roamd registers a session that arrived from another device in its tool's own index, the way the
 * tool would, so that the tool's own picker lists it without `roam resume` (docs/GEMINI.md "Beyond
 * the transcript"): for every tool whose adapter needs something before a resume
 * (SessionAdapter.prepareResume: Gemini CLI's projects.json and markers), once per session, in this
 * machine's directory for the session's project when that directory exists. The other tools need
 * nothing (measured: docs/CLAUDE-CODE.md §9, CODEX.md, COPILOT.md).
 */
import { closeSync, openSync, readSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { isRoamError } from '@roam/core/errors';
import { sessionDir } from '../sessions/index.js';
import { toolNamed } from '../tools/registry.js';

const SETTLE_MS = 1_500;
/** Not a directory anywhere: sessionDir's answer when this machine has no place for the project. */
const NOWHERE = '/nonexistent/roam-no-project-here';

/** The `sessionId` of a file's first line (Gemini CLI's logs), or null. */
function headId(file: string): string | null {
  let fd: number | null = null;
  try {
    fd = openSync(file, 'r');
    const buf = Buffer.alloc(64 * 1024);
    const n = readSync(fd, buf, 0, buf.length, 0);
    const line = buf.subarray(0, n).toString('utf8').split('\n')[0]!;
    const id = (JSON.parse(line) as { sessionId?: unknown }).sessionId;
    return typeof id === 'string' ? id : null;
  } catch {
    return null;
  } finally {
    if (fd !== null) closeSync(fd);
  }
}

export class SessionRegistrar {
  private readonly pending = new Map<string, Set<string>>();
  private readonly done = new Set<string>();
  private readonly preparing = new Map<string, boolean>();
  private timer: NodeJS.Timeout | null = null;

  constructor(private readonly host: { env(): NodeJS.ProcessEnv; root(folder: string): string | null; log(line: string): void }) {}

  /** Files of `folder` changed (local names; null: unknown which). */
  note(folder: string, names: readonly string[] | null): void {
    if (!names || !this.prepares(folder)) return;
    const set = this.pending.get(folder) ?? new Set<string>();
    for (const n of names) set.add(n);
    this.pending.set(folder, set);
    this.timer ??= setTimeout(() => void this.flush(), SETTLE_MS);
    this.timer.unref();
  }

  /** Whether `folder` is a tool's whose adapter prepares a resume (asked once per folder). */
  private prepares(folder: string): boolean {
    let yes = this.preparing.get(folder);
    if (yes === undefined) {
      const tool = toolNamed(folder);
      yes = !!tool && typeof tool.adapter({ env: this.host.env(), cacheFile: null }).prepareResume === 'function';
      this.preparing.set(folder, yes);
    }
    return yes;
  }

  async flush(): Promise<void> {
    this.timer = null;
    const work = [...this.pending];
    this.pending.clear();
    for (const [folder, names] of work) {
      const tool = toolNamed(folder)!;
      const root = this.host.root(folder);
      if (!root) continue;
      const adapter = tool.adapter({ env: this.host.env(), cacheFile: null });
      for (const name of names) {
        const item = tool.sessionOfItem(name, root, headId);
        if (!item || this.done.has(`${folder}:${item.session}`)) continue;
        try {
          const session = await adapter.find(item.session);
          if (!session) continue;
          const dir = sessionDir(session, NOWHERE, this.host.env());
          if (dir === NOWHERE || !statSync(dir, { throwIfNoEntry: false })?.isDirectory()) continue;
          this.done.add(`${folder}:${item.session}`);
          for (const line of await adapter.prepareResume!(session, dir)) this.host.log(`${tool.label} session ${session.id}: ${line}`);
        } catch (err) {
          this.done.add(`${folder}:${item.session}`);
          this.host.log(`${tool.label} session ${item.session} not registered in ${join(root, name)}'s tool here: ${isRoamError(err) ? err.message : String(err)}`);
        }
      }
    }
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
  }
}
