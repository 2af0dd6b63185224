/**
 * Partial last lines that nobody completes (docs/PROTOCOL.md, "Partial last lines").
 *
 * A line log's partial last line is held back: never counted, announced or sent. While it is on
 * disk the store refuses to write the log (ROAM_STORE_CONFLICT: the log does not end where its
 * record does), and the replicator waits for the next local change, which a writer completing the
 * line makes. A tool killed mid-write makes none: the log would wait for good. So once a write was
 * refused because of such a line, and the line has gone unwritten for `boundMs` while no live
 * writer holds the item here, the line goes to the store's trash and the log goes on from its
 * last complete line: a peer's lines then arrive as a fast-forward. Until then the item is looked
 * at again when the bound may have passed.
 *
 * The engine runs this inside its inputs; the timer only queues an input.
 */
import { ErrorCodes, isRoamError } from './errors.js';
import { isLogName } from './names.js';
import type { FolderStore, PartialTail } from './store.js';

/** How long a partial last line may go unwritten before it counts as abandoned. */
export const DEFAULT_PARTIAL_TAIL_MS = 30_000;

export interface PartialTailsOptions {
  readonly stores: ReadonlyMap<string, FolderStore>;
  readonly now: () => number;
  readonly boundMs: number;
  /** Whether a tool on this device holds the item open now (roamd: its session's lease). */
  readonly liveWriter?: (folder: string, name: string) => boolean;
  readonly log: (line: string) => void;
  /** Runs `fn` as an engine input, after every earlier one. */
  readonly input: (fn: () => Promise<void>) => Promise<void>;
  /** Decides about the item again: the replicator no longer waits for a local change to it. */
  readonly retry: (folder: string, name: string) => Promise<void>;
}

export class PartialTails {
  /** Items a partial line holds up, and when to look at each again. */
  private readonly waiting = new Map<string, { readonly folder: string; readonly name: string; readonly at: number }>();
  private timer: ReturnType<typeof setTimeout> | undefined;
  private closed = false;

  constructor(private readonly opts: PartialTailsOptions) {}

  /**
   * A store write to `name` was refused as ROAM_STORE_CONFLICT and the item rescanned. If a
   * partial last line is why, drop it when it is abandoned (and decide about the item again), or
   * look again when it may be. Runs inside an engine input.
   */
  async refused(folder: string, name: string): Promise<void> {
    const k = `${folder}\u0000${name}`;
    const waited = this.waiting.delete(k);
    const store = this.opts.stores.get(folder);
    const state = store && isLogName(name) ? store.stat(name) : null;
    let tail: PartialTail | null = null;
    try {
      tail = store && state && !state.deleted ? await store.partialTail(name) : null;
    } catch (err) {
      this.opts.log(`${folder}/${name}: looking for a partial last line failed: ${String(err)}`);
      this.later(k, folder, name, this.opts.now() + this.opts.boundMs);
      return;
    }
    if (!store || !state || !tail) {
      // Gone meanwhile (cut away by its writer, say, which is no change to the complete lines).
      if (waited) await this.opts.retry(folder, name);
      return;
    }
    const now = this.opts.now();
    const quiet = now - tail.mtimeMs >= this.opts.boundMs;
    if (!quiet || this.opts.liveWriter?.(folder, name)) {
      this.later(k, folder, name, quiet ? now + this.opts.boundMs : tail.mtimeMs + this.opts.boundMs);
      return;
    }
    try {
      await store.dropPartialTail(name, state, tail);
    } catch (err) {
      // Written to meanwhile (ROAM_STORE_CONFLICT): not abandoned. Anything else: try again later.
      if (!isRoamError(err, ErrorCodes.STORE_CONFLICT)) this.opts.log(`${folder}/${name}: dropping its partial last line failed: ${String(err)}`);
      this.later(k, folder, name, now + this.opts.boundMs);
      return;
    }
    this.opts.log(
      `${folder}/${name}: its partial last line (${tail.bytes} bytes) went unwritten for ${Math.round((now - tail.mtimeMs) / 1000)} s ` +
        `with no tool writing it here: moved to the trash as ${name}.partial; the log goes on from its last complete line`,
    );
    await this.opts.retry(folder, name);
  }

  /** Looks again at every item whose time has come (the timer calls this; tests with a manual clock too). */
  async due(): Promise<void> {
    const now = this.opts.now();
    for (const [k, w] of [...this.waiting]) if (w.at <= now && this.waiting.get(k) === w) await this.refused(w.folder, w.name);
    this.arm();
  }

  close(): void {
    this.closed = true;
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  private later(k: string, folder: string, name: string, at: number): void {
    this.waiting.set(k, { folder, name, at });
    this.arm();
  }

  /** One timer, for the earliest item due. */
  private arm(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.closed || !this.waiting.size) return;
    const at = Math.min(...[...this.waiting.values()].map((w) => w.at));
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.opts.input(() => this.due()).catch((err: unknown) => this.opts.log(`looking at partial last lines again: ${String(err)}`));
    }, Math.max(0, at - this.opts.now()) + 10);
    (this.timer as { unref?: () => void }).unref?.();
  }
}
