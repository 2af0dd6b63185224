/**
 * What a union log's view remembers between passes (and across restarts and crashes), kept by the
 * caller's `UnionStatePort` (roamd: a JSON file beside the folder's journal, replaced atomically).
 * See docs/PROTOCOL.md, "Union logs".
 */
import { ErrorCodes, RoamError } from '../errors.js';

/** An append roam is about to make, recorded before it is made. */
export type UnionPending =
  /**
   * Local lines of the view up to `viewTo`, canonical, appended to this device's own log at
   * `logFrom`; `anchor` is the view's last line before `viewTo` as it was read.
   */
  | { readonly kind: 'ingest'; readonly viewTo: number; readonly logFrom: number; readonly anchor: string; readonly data: string }
  /** Another device's lines `[originFrom, originTo)` of its log, mapped, appended to the view at or after `viewFrom`. */
  | { readonly kind: 'deliver'; readonly origin: string; readonly originTo: number; readonly viewFrom: number; readonly data: string };

export interface UnionState {
  readonly v: 1;
  /** Bytes of the view accounted for: every complete line before it is ingested or is roam's own. */
  end: number;
  /** The view's last complete line before `end` (hex), to tell that the tool rewrote or trimmed the file. */
  anchor: string;
  /** roam's own appends to the view at or past `end`, `[start, end)` byte ranges, sorted. */
  own: Array<[number, number]>;
  /** Per origin device: bytes of its log already appended to the view. */
  delivered: Record<string, number>;
  pending: UnionPending | null;
}

export function emptyUnionState(): UnionState {
  return { v: 1, end: 0, anchor: '', own: [], delivered: {}, pending: null };
}

const isNat = (n: unknown): n is number => typeof n === 'number' && Number.isSafeInteger(n) && n >= 0;
const isHex = (s: unknown): s is string => typeof s === 'string' && /^(?:[0-9a-f]{2})*$/.test(s);

/** Validates what the port loaded (null: nothing saved yet). */
export function parseUnionState(raw: unknown): UnionState {
  if (raw === null || raw === undefined) return emptyUnionState();
  const bad = (why: string): never => {
    throw new RoamError(ErrorCodes.STORE_CORRUPT, `union log state: ${why}`);
  };
  if (typeof raw !== 'object') bad('not an object');
  const s = raw as Record<string, unknown>;
  if (s.v !== 1) bad('unknown version');
  if (!isNat(s.end) || !isHex(s.anchor)) bad('bad end or anchor');
  if (!Array.isArray(s.own) || !s.own.every((r) => Array.isArray(r) && r.length === 2 && isNat(r[0]) && isNat(r[1]) && r[0] < r[1])) bad('bad own ranges');
  if (!s.delivered || typeof s.delivered !== 'object' || !Object.values(s.delivered).every(isNat)) bad('bad delivered offsets');
  const p = s.pending as Record<string, unknown> | null;
  if (p !== null) {
    if (typeof p !== 'object' || !isHex(p.data)) bad('bad pending append');
    const ok = p.kind === 'ingest' ? isNat(p.viewTo) && isNat(p.logFrom) && isHex(p.anchor) : p.kind === 'deliver' && typeof p.origin === 'string' && isNat(p.originTo) && isNat(p.viewFrom);
    if (!ok) bad('bad pending append');
  }
  return { v: 1, end: s.end as number, anchor: s.anchor as string, own: (s.own as Array<[number, number]>).map(([a, b]) => [a, b]), delivered: { ...(s.delivered as Record<string, number>) }, pending: p as UnionPending | null };
}
