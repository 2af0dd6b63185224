/**
 * A union log's view: the file every device's tool appends to (Claude Code's `history.jsonl`),
 * kept in step with the per-device line logs that carry it on the wire (docs/PROTOCOL.md, "Union
 * logs"). Pure: the tool's file, the logs, the path mapping and the durable state are ports.
 *
 * - Ingest: complete lines the tool appended past `end` (roam's own appends skipped) are put in
 *   canonical form and appended to this device's own log, which replicates as any line log.
 * - Deliver: lines of another device's log past what was delivered are mapped and appended to the
 *   view as whole lines, only while the view ends with a complete line.
 * - Every append is recorded before it is made (`pending`, with its bytes) and committed after it:
 *   a pass after a crash finds the append whole (commit), torn (finish it, then commit) or absent
 *   (drop the record; the lines are read again), so no line is appended twice and none is lost.
 * - What the tool wrote is never rewritten. A view the tool rewrote or trimmed (its last known
 *   bytes moved) is taken as it is: the lines after the last known ones are the tool's new lines,
 *   nothing it dropped is delivered again.
 */
import { concatBytes, fromHex, toHex } from '../bytes.js';
import { ErrorCodes, RoamError } from '../errors.js';
import { parseUnionState, type UnionState } from './state.js';
import { prefixEqual, lastIndexOf, lineStarts, splitLines } from './bytes.js';

/** The tool's file. */
export interface UnionViewFile {
  /** Its size, or null when absent. */
  size(): Promise<number | null>;
  read(offset: number, length: number): Promise<Uint8Array>;
  /** Appends at the end in one write (O_APPEND), durably; creates the file when absent. */
  append(data: Uint8Array): Promise<void>;
}

/** The per-device logs (the synced folder). */
export interface UnionLogs {
  /** Devices whose logs this device holds, its own aside. */
  origins(): readonly string[];
  /** Bytes of complete lines of a device's log that this device holds. */
  size(origin: string): number;
  read(origin: string, offset: number, length: number): Promise<Uint8Array>;
  /** This device's own log: its size on disk, a torn append included. */
  ownSize(): Promise<number>;
  /** Appends to this device's own log, durably. */
  appendOwn(data: Uint8Array): Promise<void>;
}

/** The tool's adapter: one line (no newline) between this device's form and the canonical one. */
export interface UnionMapper {
  toWire(line: Uint8Array): Uint8Array;
  toLocal(line: Uint8Array): Uint8Array;
}

export interface UnionStatePort {
  /** What `save` last stored, or null. */
  load(): Promise<unknown>;
  /** Stores the state durably (and atomically) before returning. */
  save(state: UnionState): Promise<void>;
}

export interface UnionViewOptions {
  readonly view: UnionViewFile;
  readonly logs: UnionLogs;
  readonly mapper: UnionMapper;
  readonly state: UnionStatePort;
  readonly log?: (line: string) => void;
}

export interface UnionPassResult {
  /** Local lines put in this device's log. */
  readonly ingested: number;
  /** Other devices' lines appended to the view. */
  readonly delivered: number;
  /** The view ends with a partial line (the tool is writing): nothing was delivered past it. */
  readonly waiting: boolean;
  /** The tool rewrote or trimmed the view since the last pass. */
  readonly rewritten: boolean;
}

/** Bytes read from a file at once (a longer line is read whole). */
const CHUNK = 1 << 20;
/**
 * Bytes of the view's last line before `end` remembered to tell a rewrite (a longer line: its
 * last bytes). The last line, not more: a tool that trims its file keeps its newest lines.
 */
const ANCHOR = 4096;
const NL = 0x0a;

/** The last line of bytes that end with one (the whole of them when no other line starts in them). */
function lastLine(b: Uint8Array): Uint8Array {
  const prev = b.subarray(0, b.length - 1).lastIndexOf(NL);
  return b.subarray(prev + 1);
}

export class UnionView {
  /** What the view held when its last known line was first found gone (see checkRewrite). */
  private suspect: string | null = null;

  private constructor(
    private readonly opts: UnionViewOptions,
    private state: UnionState,
  ) {}

  static async open(opts: UnionViewOptions): Promise<UnionView> {
    return new UnionView(opts, parseUnionState(await opts.state.load()));
  }

  /** The state as last saved (tests, status). */
  snapshot(): Readonly<UnionState> {
    return structuredClone(this.state);
  }

  /** One pass: finish an interrupted append, notice a rewrite, ingest, deliver. */
  async pass(): Promise<UnionPassResult> {
    await this.recover();
    const rewritten = await this.checkRewrite();
    if (rewritten === 'unsure') return { ingested: 0, delivered: 0, waiting: true, rewritten: false };
    let ingested = await this.ingest();
    let delivered = 0;
    let waiting = false;
    for (const origin of [...this.opts.logs.origins()].sort()) {
      for (;;) {
        const from = this.state.delivered[origin] ?? 0;
        const to = this.opts.logs.size(origin);
        if (to <= from) break;
        ingested += await this.ingest();
        const size = (await this.opts.view.size()) ?? 0;
        if (size !== this.state.end) {
          waiting = true; // a partial line of the tool's, or it is appending right now
          break;
        }
        delivered += await this.deliver(origin, from, to);
      }
      if (waiting) break;
    }
    ingested += await this.ingest();
    if (!waiting) waiting = ((await this.opts.view.size()) ?? 0) > this.state.end;
    return { ingested, delivered, waiting, rewritten: rewritten === 'yes' };
  }

  private async save(): Promise<void> {
    await this.opts.state.save(this.state);
  }

  // ------------------------------------------------------------------ recovery

  private async recover(): Promise<void> {
    const p = this.state.pending;
    if (!p) return;
    const data = fromHex(p.data);
    if (p.kind === 'ingest') {
      const own = await this.opts.logs.ownSize();
      if (own <= p.logFrom) {
        this.state.pending = null; // never made: the lines are read again
        await this.save();
        return;
      }
      if (own < p.logFrom + data.length) await this.opts.logs.appendOwn(data.subarray(own - p.logFrom));
      await this.commitIngest(p.viewTo, fromHex(p.anchor));
      return;
    }
    const size = (await this.opts.view.size()) ?? 0;
    const at = await this.locate(data, p.viewFrom, size);
    if (at.whole !== null) return this.commitDeliver(p.origin, p.originTo, at.whole, data.length);
    if (at.torn !== null) {
      await this.opts.view.append(data.subarray(size - at.torn));
      return this.commitDeliver(p.origin, p.originTo, at.torn, data.length);
    }
    this.state.pending = null; // never made: delivered again
    await this.save();
  }

  /** Where `data` was appended at a line start at or past `from`: whole, or torn at the end of the file. */
  private async locate(data: Uint8Array, from: number, size: number): Promise<{ whole: number | null; torn: number | null }> {
    if (size <= from) return { whole: null, torn: null };
    const tail = await this.opts.view.read(from, size - from);
    for (const s of lineStarts(tail)) {
      const rest = tail.subarray(s);
      if (rest.length >= data.length && prefixEqual(rest, data, data.length)) return { whole: from + s, torn: null };
      if (rest.length > 0 && rest.length < data.length && prefixEqual(data, rest, rest.length)) return { whole: null, torn: from + s };
    }
    return { whole: null, torn: null };
  }

  // ------------------------------------------------------------------ rewrite

  /**
   * Whether the tool rewrote the view. `unsure`: its last known line is gone from what the file
   * holds now, which is also what a rewrite in progress looks like (Codex truncates, then writes
   * what it keeps): taken as it is only when the next pass finds the same bytes.
   */
  private async checkRewrite(): Promise<'no' | 'yes' | 'unsure'> {
    const { end, anchor } = this.state;
    if (end === 0) return 'no';
    const size = await this.opts.view.size();
    const want = fromHex(anchor);
    let same = size !== null && size >= end;
    if (same && want.length) {
      const got = await this.opts.view.read(end - want.length, want.length);
      same = got.length === want.length && prefixEqual(got, want, want.length);
    }
    if (same) {
      this.suspect = null;
      return 'no';
    }
    // Rewritten or trimmed: the lines after the last known ones are new; the rest is old.
    const all = size ? await this.opts.view.read(0, size) : new Uint8Array(0);
    const at = want.length ? lastIndexOf(all, want) : -1;
    const lastNl = all.lastIndexOf(NL);
    if (at < 0) {
      const seen = `${all.length}:${toHex(lastLine(all.subarray(Math.max(0, lastNl + 1 - ANCHOR), lastNl + 1)))}`;
      if (this.suspect !== seen) {
        this.suspect = seen;
        return 'unsure';
      }
    }
    this.suspect = null;
    this.state.end = at >= 0 ? at + want.length : lastNl + 1;
    this.state.own = [];
    this.state.anchor = toHex(lastLine(all.subarray(Math.max(0, this.state.end - ANCHOR), this.state.end)));
    this.opts.log?.(`the view was rewritten (${end} → ${size ?? 'absent'} bytes); ${at >= 0 ? 'reading on after its last known line' : 'its last known line is gone: taking it as it is'}`);
    await this.save();
    return 'yes';
  }

  // ------------------------------------------------------------------ ingest

  /** Local complete lines past `end` into this device's own log; returns how many. */
  private async ingest(): Promise<number> {
    let count = 0;
    for (;;) {
      const size = (await this.opts.view.size()) ?? 0;
      const { end } = this.state;
      if (size <= end) return count;
      let chunk = await this.opts.view.read(end, Math.min(CHUNK, size - end));
      let last = chunk.lastIndexOf(NL);
      if (last < 0 && chunk.length < size - end) {
        chunk = await this.opts.view.read(end, size - end);
        last = chunk.lastIndexOf(NL);
      }
      if (last < 0) return count; // a partial line: the tool is writing it
      const viewTo = end + last + 1;
      // The anchor from the bytes just read: the file may change before the commit reads it again.
      const anchor = lastLine(chunk.subarray(Math.max(0, last + 1 - ANCHOR), last + 1));
      const local: Uint8Array[] = [];
      for (const { start, line } of splitLines(chunk.subarray(0, last + 1))) {
        const at = end + start;
        if (this.state.own.some(([a, b]) => a <= at && at < b)) continue;
        local.push(this.mapLine(line, (l) => this.opts.mapper.toWire(l)));
      }
      if (local.length) {
        const data = concatBytes(local);
        this.state.pending = { kind: 'ingest', viewTo, logFrom: await this.opts.logs.ownSize(), anchor: toHex(anchor), data: toHex(data) };
        await this.save();
        await this.opts.logs.appendOwn(data);
      }
      await this.commitIngest(viewTo, anchor);
      count += local.length;
    }
  }

  private async commitIngest(viewTo: number, anchor: Uint8Array): Promise<void> {
    this.state.anchor = toHex(anchor);
    this.state.end = viewTo;
    this.state.own = this.state.own.filter(([, b]) => b > viewTo);
    this.state.pending = null;
    await this.save();
  }

  // ------------------------------------------------------------------ deliver

  /** One batch of `origin`'s lines `[from, to)` into the view (it ends with a complete line at `end`). */
  private async deliver(origin: string, from: number, to: number): Promise<number> {
    let chunk = await this.opts.logs.read(origin, from, Math.min(CHUNK, to - from));
    let last = chunk.lastIndexOf(NL);
    if (last < 0) {
      chunk = await this.opts.logs.read(origin, from, to - from);
      last = chunk.lastIndexOf(NL);
      if (last < 0) throw new RoamError(ErrorCodes.STORE_CORRUPT, `union log ${origin}: bytes ${from}-${to} hold no complete line`);
    }
    const lines = splitLines(chunk.subarray(0, last + 1)).map(({ line }) => this.mapLine(line, (l) => this.opts.mapper.toLocal(l)));
    const data = concatBytes(lines);
    const originTo = from + last + 1;
    const viewFrom = this.state.end;
    this.state.pending = { kind: 'deliver', origin, originTo, viewFrom, data: toHex(data) };
    await this.save();
    await this.opts.view.append(data);
    const size = (await this.opts.view.size()) ?? 0;
    const at = await this.locate(data, viewFrom, size);
    if (at.whole === null) throw new RoamError(ErrorCodes.STORE_IO, `union view: the ${data.length} bytes just appended are not in the file`);
    await this.commitDeliver(origin, originTo, at.whole, data.length);
    return lines.length;
  }

  private async commitDeliver(origin: string, originTo: number, at: number, length: number): Promise<void> {
    this.state.own = [...this.state.own, [at, at + length] as [number, number]].sort((a, b) => a[0] - b[0]);
    this.state.delivered = { ...this.state.delivered, [origin]: originTo };
    this.state.pending = null;
    await this.save();
  }

  /** A line (with its newline) mapped; the line as it is when the mapping would break it. */
  private mapLine(line: Uint8Array, map: (l: Uint8Array) => Uint8Array): Uint8Array {
    const body = line.subarray(0, line.length - 1);
    let out: Uint8Array;
    try {
      out = map(body);
    } catch {
      out = body;
    }
    if (out.includes(NL)) out = body;
    return concatBytes([out, line.subarray(line.length - 1)]);
  }
}

