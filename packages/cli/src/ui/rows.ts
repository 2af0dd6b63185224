/**
 * The sessions page's list, kept between polls. Listing 10,000 sessions costs a stat per transcript
 * (40-80 ms warm, far more on a loaded machine); the page polls every 1.5 s and a person reloads it.
 * So the rows `roam list --all --json` prints are kept per tool filter and handed out at once: a
 * list older than `maxAgeMs` is still answered, and read again in the background (one read at a
 * time per filter), so the next poll sees what changed (a session that arrived, one removed). An
 * action of the page (rm, restore, selective sync) drops the lists so its next answer is fresh.
 */
import type { ListedJson, SessionInfo } from '../sessions/types.js';

const memo = new WeakMap<ListedJson, SessionInfo>();
const decoder = new TextDecoder();

/** The session a row prints (parsed once per row). */
export function parsed(row: ListedJson): SessionInfo {
  let s = memo.get(row);
  if (!s) {
    const text = typeof row.json === 'string' ? row.json : decoder.decode(row.json.subarray(row.start ?? 0, row.end ?? row.json.length));
    s = JSON.parse(text) as SessionInfo;
    memo.set(row, s);
  }
  return s;
}

interface Kept<T> {
  rows: T;
  /** When the rows were read, and when they were last found current. */
  at: number;
  checked: number;
  /** roamd's stamp when they were read (null: none was had). */
  stamp: string | null;
  reading: Promise<T> | null;
  checking: boolean;
}

export interface RowsCacheOptions {
  /** Rows older than this are checked (against the stamp) or read again behind the answer. */
  maxAgeMs?: number;
  /** Rows older than this are read again whatever the stamp says (sessions roamd does not watch). */
  maxStaleMs?: number;
  /**
   * What changes when roamd's folders change (a session arrived, grew, was removed): while it is
   * the one the rows were read at, they are kept. Absent or failing: read again every maxAgeMs.
   */
  stamp?: () => Promise<string>;
  now?: () => number;
}

/** What `read(key)` gave, kept per key (see above); T is the list's rows, or roamd's `origins`. */
export class RowsCache<T = ListedJson[]> {
  private readonly kept = new Map<string, Kept<T>>();
  /** Reads under way for a filter nothing is kept for yet. */
  private readonly first = new Map<string, Promise<T>>();
  private epoch = 0;
  private readonly maxAgeMs: number;
  private readonly maxStaleMs: number;
  private readonly now: () => number;

  constructor(
    private readonly read: (tool: string | undefined) => Promise<T>,
    private readonly opts: RowsCacheOptions = {},
  ) {
    this.maxAgeMs = opts.maxAgeMs ?? 1000;
    this.maxStaleMs = opts.maxStaleMs ?? 10_000;
    this.now = opts.now ?? Date.now;
  }

  /** The rows for `tool` (undefined: every tool), newest first. */
  async get(tool: string | undefined): Promise<T> {
    const key = tool ?? '';
    const k = this.kept.get(key);
    if (!k) return this.refresh(key, tool);
    const now = this.now();
    if (now - k.checked > this.maxAgeMs && !k.reading && !k.checking) {
      k.checked = now;
      const stamp = this.opts.stamp;
      if (stamp && k.stamp !== null && now - k.at <= this.maxStaleMs) {
        k.checking = true;
        void stamp().catch(() => null).then((s) => {
          k.checking = false;
          if (s === null || s !== k.stamp) void this.refresh(key, tool).catch(() => {});
        });
      } else void this.refresh(key, tool).catch(() => {});
    }
    return k.rows;
  }

  /** Reads the list again now (callers wait for it when nothing is kept yet). */
  warm(tool?: string): Promise<T> {
    return this.refresh(tool ?? '', tool);
  }

  /** Forgets every list: the next get() reads afresh. */
  invalidate(): void {
    this.epoch++;
    this.kept.clear();
    this.first.clear();
  }

  private refresh(key: string, tool: string | undefined): Promise<T> {
    const old = this.kept.get(key);
    if (old?.reading) return old.reading;
    const pending = this.first.get(key);
    if (pending) return pending;
    const epoch = this.epoch;
    const at = this.now();
    const stamp = this.opts.stamp;
    // The stamp first: a change during the read leaves a stamp older than the rows (read again once more).
    const reading = (async () => ({ stamp: stamp ? await stamp().catch(() => null) : null, rows: await this.read(tool) }))().then(
      ({ rows, stamp: s }) => {
        if (epoch === this.epoch) this.kept.set(key, { rows, at, checked: at, stamp: s, reading: null, checking: false });
        return rows;
      },
      (err: unknown) => {
        const k = this.kept.get(key);
        if (k && k.reading === reading) k.reading = null;
        throw err;
      },
    );
    if (old) old.reading = reading;
    else {
      this.first.set(key, reading);
      const done = () => { if (this.first.get(key) === reading) this.first.delete(key); };
      reading.then(done, done);
    }
    return reading;
  }
}
