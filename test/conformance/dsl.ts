// The conformance suite's scenario language: a scenario is data — devices, steps, the expected end
// state of every device's folder — built with the small helpers below. The runner (runner.ts) plays
// it against any Driver; the same scenario runs on roam and on the Syncthing reference.
import { createHash } from 'node:crypto';

/** A device's role in a scenario: A, B, C; or S and L (smaller / larger short id) in tie scenarios. */
export type Role = string;

/**
 * Every write sets the file's mtime explicitly, in seconds after BASE (2025-01-01T00:00:00Z), on the
 * same file descriptor right after the bytes: end states then compare across runs and drivers, and
 * conflict winners never depend on the wall clock. `settle` never sleeps; `stream` paces a writer.
 */
export const BASE_MS = Date.UTC(2025, 0, 1);

export type Content = string | Uint8Array | (() => Uint8Array);

export type Step =
  /** Create or overwrite in place (O_TRUNC, same inode), parent directories 0755 as needed. */
  | { t: 'write'; dev: Role; path: string; content: Content; mtime?: number; mode?: number }
  | { t: 'append'; dev: Role; path: string; content: Content; mtime?: number }
  /** ftruncate in place to `size` bytes. */
  | { t: 'truncate'; dev: Role; path: string; size: number; mtime?: number }
  /** Atomic replace: written beside the folder (same file system), then renamed over the path. */
  | { t: 'replace'; dev: Role; path: string; content: Content; mtime?: number; mode?: number }
  /** rm -rf. */
  | { t: 'remove'; dev: Role; path: string }
  | { t: 'rename'; dev: Role; from: string; to: string }
  | { t: 'mkdir'; dev: Role; path: string }
  /** Replace the device's ignore rules (`.stignore` / `.roamignore`, Syncthing's syntax). */
  | { t: 'ignore'; dev: Role; lines: readonly string[] }
  | { t: 'pause'; a: Role; b: Role }
  | { t: 'resume'; a: Role; b: Role }
  | { t: 'stop'; dev: Role }
  | { t: 'start'; dev: Role }
  /** Wait until every running device agrees with its running, unpaused peers (Driver.settled). */
  | { t: 'settle'; timeoutMs?: number }
  /** Record every device's tree under a label (the end state is recorded as 'end' by the runner). */
  | { t: 'snapshot'; label: string }
  /**
   * A writer appending `count` lines, one every `everyMs`, each in two writes `splitMs` apart (a
   * partial line, then its end), mtime `mtime + i * everyMs / 1000`.
   */
  | { t: 'stream'; dev: Role; path: string; count: number; everyMs: number; splitMs: number; line: (i: number) => string; mtime?: number }
  /** Wait for the wall clock's next second (conflict copies are named to the second). */
  | { t: 'nextSecond' };

export const LINK_STEPS = new Set<Step['t']>(['pause', 'resume', 'stop', 'start']);

/** What a file must be: its whole content, or some of its fields (mtime in seconds after BASE). */
export type FileExpect = string | { content?: string; size?: number; sha256?: string; mtime?: number; mode?: number };
/** path → expectation; a path ending in '/' is a directory that must exist (even empty); null removes. */
export type Files = Record<string, FileExpect | null>;
/** Per device role, or `all` for every device (a role's entries are laid over `all`'s). */
export type DeviceFiles = Partial<Record<'all' | Role, Files>>;
/** Per snapshot label ('end' for the end state). */
export type Expectation = Record<string, DeviceFiles>;

export interface VariantExpect {
  /** The DIFFERENCES.md entry that explains why roam's outcome differs from the reference here. */
  difference?: string;
  /** roam's outcome where it differs (laid over the scenario's `expect`, snapshot by snapshot). */
  expect?: Expectation;
}

export interface Scenario {
  /** Folder id, [A-Za-z0-9][A-Za-z0-9_-]*. */
  id: string;
  title: string;
  /** 'pair': devices A, B (S, L when `tie`); 'trio': A, B, C. */
  topology: 'pair' | 'trio';
  /**
   * Run roam in both conflict modes: folder `<id>` in `syncthing` mode (compared with the reference
   * exactly) and `<id>--fork` in `fork` mode (checked against `fork`).
   */
  conflict?: boolean;
  /** Roles S and L are the devices with the smaller / larger short id (bound at run time per driver). */
  tie?: boolean;
  /** roam's `logDeletes` for the folder; default 'propagate', as the reference. */
  logDeletes?: 'local' | 'propagate';
  steps: Step[];
  /** The reference's outcome, written once: every device's folder at the end (and at snapshots). */
  expect: Expectation;
  /** roam (folder in syncthing mode, or the only roam folder) where it deliberately differs. */
  roam?: VariantExpect;
  /** roam's fork-mode folder (conflict scenarios): where it differs from the reference. */
  fork?: VariantExpect;
  /** Files checked all through the run on the given devices: never a partial line (*.jsonl), never absent once seen. */
  sample?: { on: Role[]; paths: string[]; torn?: boolean; vanish?: boolean };
  /** The DIFFERENCES.md entry that names what the reference shows in sampling and roam must not. */
  sampledDifference?: string;
  /** The rule an outcome shows, stored with the recording (ties). */
  rule?: string;
  /** Why the scenario departs from the issue's wording (e.g. a shortened stream). */
  note?: string;
  /** A roam bug this scenario shows: printed as MISMATCH (KNOWN), does not fail the run. */
  knownBug?: string;
  /**
   * A roam bug limited to sampling: a sampled file of roam's vanishes for a moment. Only that is
   * tolerated (MISMATCH (KNOWN)); the end states must still match.
   */
  knownVanish?: string;
  /**
   * Run on devices of its own: for a known bug that keeps roam from ever settling (`roam sync
   * --wait` covers every folder, so it would stall every scenario sharing the devices). Its settle
   * deadline is short.
   */
  isolate?: boolean;
}

export function roles(s: Scenario): Role[] {
  if (s.topology === 'trio') return ['A', 'B', 'C'];
  return s.tie ? ['S', 'L'] : ['A', 'B'];
}

/** The link steps of a scenario, as a signature: scenarios with equal signatures run in lockstep. */
export function linkSignature(s: Scenario): string {
  return JSON.stringify(s.steps.filter((st) => LINK_STEPS.has(st.t)));
}

// ------------------------------------------------------------------ step builders

type WriteOpts = { mtime?: number; mode?: number };
export const write = (dev: Role, path: string, content: Content, o: WriteOpts = {}): Step => ({ t: 'write', dev, path, content, ...o });
export const append = (dev: Role, path: string, content: Content, o: { mtime?: number } = {}): Step => ({ t: 'append', dev, path, content, ...o });
export const truncate = (dev: Role, path: string, size = 0, o: { mtime?: number } = {}): Step => ({ t: 'truncate', dev, path, size, ...o });
export const replace = (dev: Role, path: string, content: Content, o: WriteOpts = {}): Step => ({ t: 'replace', dev, path, content, ...o });
export const remove = (dev: Role, path: string): Step => ({ t: 'remove', dev, path });
export const rename = (dev: Role, from: string, to: string): Step => ({ t: 'rename', dev, from, to });
export const mkdir = (dev: Role, path: string): Step => ({ t: 'mkdir', dev, path });
export const ignore = (dev: Role, lines: readonly string[]): Step => ({ t: 'ignore', dev, lines });
export const pause = (a: Role, b: Role): Step => ({ t: 'pause', a, b });
export const resume = (a: Role, b: Role): Step => ({ t: 'resume', a, b });
export const stop = (dev: Role): Step => ({ t: 'stop', dev });
export const start = (dev: Role): Step => ({ t: 'start', dev });
export const settle = (timeoutMs?: number): Step => (timeoutMs === undefined ? { t: 'settle' } : { t: 'settle', timeoutMs });
export const snapshot = (label: string): Step => ({ t: 'snapshot', label });
export const nextSecond = (): Step => ({ t: 'nextSecond' });
export const stream = (dev: Role, path: string, o: { count: number; everyMs: number; splitMs: number; line: (i: number) => string; mtime?: number }): Step => ({ t: 'stream', dev, path, ...o });

/**
 * Fills in default mtimes: a write step without one gets 10 s × (its index + 1) after BASE, so every
 * change has a distinct, known mtime.
 */
export function scenario(s: Scenario): Scenario {
  const writes = new Set<Step['t']>(['write', 'append', 'truncate', 'replace', 'stream']);
  const steps = s.steps.map((st, i) => (writes.has(st.t) && (st as { mtime?: number }).mtime === undefined ? { ...st, mtime: 10 * (i + 1) } : st) as Step);
  return { ...s, steps };
}

// ------------------------------------------------------------------ content helpers

/** One JSONL line as Claude Code writes them (ends with \n). */
export function line(tag: string, i: number, pad = 40): string {
  return `${JSON.stringify({ type: i % 2 ? 'assistant' : 'user', uuid: `${tag}-${i}`, message: { content: `${tag} line ${i} ${'.'.repeat(pad)}` } })}\n`;
}

/** Lines `from`..`to` (inclusive) of `tag`. */
export function lines(tag: string, from: number, to: number, pad = 40): string {
  let s = '';
  for (let i = from; i <= to; i++) s += line(tag, i, pad);
  return s;
}

/** The bytes of a content. */
export function bytesOf(c: Content): Uint8Array {
  if (typeof c === 'string') return Buffer.from(c, 'utf8');
  return typeof c === 'function' ? c() : c;
}

const cache = new Map<string, Buffer>();
/** A large log, made once: `n` lines of about 1 KB. */
export function bigLog(tag: string, n: number): () => Buffer {
  return () => {
    let b = cache.get(`${tag}/${n}`);
    if (!b) {
      const parts: string[] = [];
      for (let i = 0; i < n; i++) parts.push(line(tag, i, 940));
      b = Buffer.from(parts.join(''), 'utf8');
      cache.set(`${tag}/${n}`, b);
    }
    return b;
  };
}

export function sha256(c: Content): string {
  return createHash('sha256').update(bytesOf(c)).digest('hex');
}

/** Expectation of a large file by size and hash (recordings keep no large contents). */
export function big(c: Content, o: { mtime?: number } = {}): FileExpect {
  const b = bytesOf(c);
  return { size: b.length, sha256: sha256(b), ...o };
}

/**
 * roam's fork copy of a log: `<stem>.fork-<first 12 hex digits of the losing chain hash>.jsonl`,
 * chain(0) = 32 zero bytes, chain(i+1) = SHA-256(chain(i) ‖ line i) over the complete lines.
 */
export function forkName(path: string, loser: string): string {
  let h: Buffer = Buffer.alloc(32);
  const data = Buffer.from(loser, 'utf8');
  let start = 0;
  for (let i = 0; i < data.length; i++) {
    if (data[i] === 0x0a) {
      h = createHash('sha256').update(h).update(data.subarray(start, i + 1)).digest();
      start = i + 1;
    }
  }
  const slash = path.lastIndexOf('/');
  const dir = path.slice(0, slash + 1);
  const base = path.slice(slash + 1);
  const dot = base.lastIndexOf('.');
  const [stem, ext] = dot > 0 ? [base.slice(0, dot), base.slice(dot)] : [base, ''];
  return `${dir}${stem}.fork-${h.toString('hex').slice(0, 12)}${ext}`;
}
