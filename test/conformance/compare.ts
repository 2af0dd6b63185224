// Outcomes made comparable across drivers and runs, and the verdicts of the report.
// - Conflict copies `<stem>.sync-conflict-YYYYMMDD-HHMMSS-<7 chars>[-n].<ext>` become
//   `<stem>.sync-conflict-<T>-<ROLE>[-n].<ext>`: the role (A, B, …) of the device whose id the 7
//   characters are, and <T> (<T1>, <T2>, … in time order when a file has several). A timestamp outside
//   the scenario's run (wrong clock, local time instead of UTC) becomes <T?>.
// - mtimes become `T+<seconds after BASE>` (every write of a scenario sets one); any other mtime is
//   `W` when every device holding that path agrees on it, else W0, W1, … in order.
import { createHash } from 'node:crypto';
import type { TreeEntry } from './driver.js';
import { BASE_MS, type DeviceFiles, type Expectation, type Files, type Role, type Scenario } from './dsl.js';

export interface NormEntry {
  path: string;
  type: TreeEntry['type'];
  size: number;
  sha256: string;
  content?: string;
  mtime: string;
  mode: number;
}

/** Per device role. */
export type NormTrees = Record<Role, NormEntry[]>;
/** Per snapshot label ('end' last). */
export type NormSnapshots = Record<string, NormTrees>;

export interface NormContext {
  /** The 7-character id of a conflict copy → the role of the device it names. */
  idToRole: Record<string, Role>;
  /** The scenario's run, wall clock: conflict timestamps must fall inside. */
  fromMs: number;
  toMs: number;
}

const CONFLICT = /^(.+)\.sync-conflict-(\d{8})-(\d{6})-([0-9A-Za-z]{7})(-\d+)?(\.[^.]*)?$/;
const EXPLICIT_WINDOW_MS = 30 * 86_400_000;

export function normalize(trees: Record<Role, TreeEntry[]>, ctx: NormContext): NormTrees {
  // Conflict copies' timestamps per file, across devices, for the ordinals.
  const stamps = new Map<string, Set<string>>();
  const parse = (p: string) => {
    const slash = p.lastIndexOf('/');
    const m = CONFLICT.exec(p.slice(slash + 1));
    if (!m) return undefined;
    const [, stem, date, time, id, n = '', ext = ''] = m;
    return { dir: p.slice(0, slash + 1), stem: stem!, stamp: `${date}-${time}`, id: id!, n, ext };
  };
  for (const entries of Object.values(trees)) {
    for (const e of entries) {
      const c = parse(e.path);
      if (!c) continue;
      const k = `${c.dir}${c.stem}${c.ext}`;
      if (!stamps.has(k)) stamps.set(k, new Set());
      stamps.get(k)!.add(c.stamp);
    }
  }
  const renamePath = (p: string): string => {
    const c = parse(p);
    if (!c) return p;
    const ms = Date.UTC(+c.stamp.slice(0, 4), +c.stamp.slice(4, 6) - 1, +c.stamp.slice(6, 8), +c.stamp.slice(9, 11), +c.stamp.slice(11, 13), +c.stamp.slice(13, 15));
    let t: string;
    if (ms < ctx.fromMs - 2000 || ms > ctx.toMs + 2000) t = '<T?>';
    else {
      const all = [...stamps.get(`${c.dir}${c.stem}${c.ext}`)!].sort();
      t = all.length === 1 ? '<T>' : `<T${all.indexOf(c.stamp) + 1}>`;
    }
    const who = ctx.idToRole[c.id] ?? `?${c.id}`;
    return `${c.dir}${c.stem}.sync-conflict-${t}-${who}${c.n}${c.ext}`;
  };
  const out: NormTrees = {};
  const wall = new Map<string, Set<number>>();
  for (const [role, entries] of Object.entries(trees)) {
    out[role] = entries.map((e) => {
      const n: NormEntry = { path: renamePath(e.path), type: e.type, size: e.size, sha256: e.sha256, mtime: '-', mode: e.mode };
      if (e.content !== undefined) n.content = e.content;
      if (e.type === 'file') {
        const rel = e.mtimeMs - BASE_MS;
        if (rel >= 0 && rel < EXPLICIT_WINDOW_MS) n.mtime = `T+${rel / 1000}`;
        else {
          n.mtime = `@${e.mtimeMs}`;
          if (!wall.has(n.path)) wall.set(n.path, new Set());
          wall.get(n.path)!.add(e.mtimeMs);
        }
      }
      return n;
    });
  }
  for (const entries of Object.values(out)) {
    for (const n of entries) {
      if (!n.mtime.startsWith('@')) continue;
      const all = [...wall.get(n.path)!].sort((a, b) => a - b);
      n.mtime = all.length === 1 ? 'W' : `W${all.indexOf(Number(n.mtime.slice(1)))}`;
    }
    entries.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  }
  return out;
}

/** Human-readable differences between two outcomes (empty: identical). */
export function diffSnapshots(mine: NormSnapshots, ref: NormSnapshots, names: [string, string] = ['roam', 'reference']): string[] {
  const out: string[] = [];
  for (const label of new Set([...Object.keys(mine), ...Object.keys(ref)])) {
    const [a, b] = [mine[label], ref[label]];
    if (!a || !b) {
      out.push(`${label}: only in ${a ? names[0] : names[1]}`);
      continue;
    }
    for (const role of new Set([...Object.keys(a), ...Object.keys(b)])) {
      const ea = new Map((a[role] ?? []).map((e) => [e.path, e]));
      const eb = new Map((b[role] ?? []).map((e) => [e.path, e]));
      for (const p of new Set([...ea.keys(), ...eb.keys()])) {
        const [x, y] = [ea.get(p), eb.get(p)];
        if (!x) out.push(`${label} ${role}: ${p} only in ${names[1]}`);
        else if (!y) out.push(`${label} ${role}: ${p} only in ${names[0]}`);
        else {
          const fields = (['type', 'size', 'sha256', 'mtime', 'mode'] as const).filter((f) => x[f] !== y[f]);
          if (fields.length) out.push(`${label} ${role}: ${p}: ${fields.map((f) => `${f} ${fmt(f, x[f])} vs ${fmt(f, y[f])}`).join(', ')}`);
        }
      }
    }
  }
  return out;
}

function fmt(field: string, v: unknown): string {
  if (field === 'mode') return (v as number).toString(8);
  if (field === 'sha256') return (v as string).slice(0, 8);
  return String(v);
}

/** Lays `over` on `base`, snapshot by snapshot and device by device. */
export function mergeExpect(base: Expectation, over: Expectation | undefined): Expectation {
  if (!over) return base;
  const out: Expectation = { ...base };
  for (const [label, devs] of Object.entries(over)) {
    const merged: DeviceFiles = { ...(out[label] ?? {}) };
    for (const [dev, files] of Object.entries(devs)) merged[`+${dev}`] = files;
    out[label] = merged;
  }
  return out;
}

/** A device's expected files: base `all`, base role, then any `+all`, `+role` layers laid over. */
function filesFor(devs: DeviceFiles, role: Role): Record<string, Exclude<Files[string], null>> {
  const layered = { ...devs.all, ...devs[role], ...devs['+all'], ...devs[`+${role}`] };
  return Object.fromEntries(Object.entries(layered).filter((e): e is [string, Exclude<Files[string], null>] => e[1] !== null));
}

/** What in the outcome does not meet the expectation (empty: it does). */
export function checkExpect(snaps: NormSnapshots, expect: Expectation, roles: Role[]): string[] {
  const out: string[] = [];
  for (const [label, devs] of Object.entries(expect)) {
    const trees = snaps[label];
    if (!trees) {
      out.push(`${label}: no such snapshot`);
      continue;
    }
    for (const role of roles) {
      const want = filesFor(devs, role);
      const actual = new Map((trees[role] ?? []).map((e) => [e.path, e]));
      const wantDirs = new Set<string>();
      const wantFiles = new Map<string, Exclude<Files[string], null>>();
      for (const [p, f] of Object.entries(want)) {
        if (p.endsWith('/')) wantDirs.add(p.slice(0, -1));
        else wantFiles.set(p, f);
        const parts = p.replace(/\/$/, '').split('/');
        for (let i = 1; i < parts.length; i++) wantDirs.add(parts.slice(0, i).join('/'));
      }
      for (const [p, e] of actual) {
        if (e.type === 'dir' ? !wantDirs.has(p) : !wantFiles.has(p)) out.push(`${label} ${role}: unexpected ${e.type} ${p}`);
      }
      for (const d of wantDirs) if (actual.get(d)?.type !== 'dir') out.push(`${label} ${role}: missing directory ${d}`);
      for (const [p, f] of wantFiles) {
        const e = actual.get(p);
        if (!e || e.type !== 'file') {
          out.push(`${label} ${role}: missing file ${p}`);
          continue;
        }
        const spec = typeof f === 'string' ? { content: f } : f;
        const bad: string[] = [];
        if (spec.content !== undefined) {
          const b = Buffer.from(spec.content, 'utf8');
          if (e.size !== b.length || e.sha256 !== sha(b)) bad.push(`content ${JSON.stringify(e.content ?? `<${e.size} bytes>`).slice(0, 120)} ≠ expected ${JSON.stringify(spec.content).slice(0, 120)}`);
        }
        if (spec.size !== undefined && e.size !== spec.size) bad.push(`size ${e.size} ≠ ${spec.size}`);
        if (spec.sha256 !== undefined && e.sha256 !== spec.sha256) bad.push(`sha256 ${e.sha256.slice(0, 8)} ≠ ${spec.sha256.slice(0, 8)}`);
        if (spec.mtime !== undefined && e.mtime !== `T+${spec.mtime}`) bad.push(`mtime ${e.mtime} ≠ T+${spec.mtime}`);
        if (spec.mode !== undefined && e.mode !== spec.mode) bad.push(`mode ${e.mode.toString(8)} ≠ ${spec.mode.toString(8)}`);
        if (bad.length) out.push(`${label} ${role}: ${p}: ${bad.join('; ')}`);
      }
    }
  }
  return out;
}

function sha(b: Uint8Array): string {
  return createHash('sha256').update(b).digest('hex');
}

// ------------------------------------------------------------------ verdicts

export interface Observed {
  /** A line log on a sampled device ended in a partial line at some moment. */
  tornLine: boolean;
  /** A sampled file was absent for a moment after it had appeared. */
  vanished: boolean;
  /** Details, for the report. */
  details: string[];
}

export interface Outcome {
  snapshots: NormSnapshots;
  observed: Observed;
  error?: string;
  ms: number;
}

/** What Syncthing showed, stored in the repo by `--record`. */
export interface Recording {
  scenario: string;
  title: string;
  recordedWith: string;
  rule?: string;
  note?: string;
  observed: { tornLine: boolean; vanished: boolean };
  snapshots: NormSnapshots;
}

/** The sampled differences: what the reference may show during a run and roam never does. */
export const SAMPLED_DIFFERENCE = { tornLine: 'D1', vanished: 'D2' } as const;

/** The DIFFERENCES.md entry for modes: a received file keeps its owner bits only, directories roam makes are 0700. */
export const MODE_DIFFERENCE = 'D9';

/** Modes as D9 leaves them comparable: a file's owner bits (read and write always), a directory's not at all. */
function ownerModes(snaps: NormSnapshots): NormSnapshots {
  const out: NormSnapshots = {};
  for (const [label, trees] of Object.entries(snaps)) {
    out[label] = Object.fromEntries(Object.entries(trees).map(([role, es]) => [role, es.map((e) => ({ ...e, mode: e.type === 'dir' ? 0 : (e.mode & 0o700) | 0o600 }))])) as NormTrees;
  }
  return out;
}

export type Verdict =
  | { kind: 'same' }
  | { kind: 'difference'; ids: string[] }
  | { kind: 'mismatch'; why: string[]; known?: string; otherwise?: Verdict };

/**
 * roam's verdict for one of its folders against the reference outcome: `expected` is what the
 * scenario says roam does there (the reference's outcome with the variant's documented changes).
 */
export function verdict(s: Scenario, roam: Outcome | undefined, ref: { snapshots: NormSnapshots; observed: { tornLine: boolean; vanished: boolean } } | undefined, expected: Expectation, difference: string | undefined, roles: Role[]): Verdict {
  // Problems a registered known bug explains (tolerated), and the others (a mismatch).
  const known: string[] = [];
  const why: string[] = [];
  const outcome = (p: string) => (s.knownBug ? known : why).push(p);
  let modesOnly = false;
  if (!roam) outcome('roam did not run');
  else if (roam.error) outcome(`error: ${roam.error}`);
  else {
    const sampled = roam.observed.details.map((d) => `sampled: ${d}`);
    if (roam.observed.tornLine) why.push(...sampled.filter((d) => d.includes('partial line')));
    if (roam.observed.vanished) (s.knownVanish || s.knownBug ? known : why).push(...sampled.filter((d) => d.includes('vanished')));
    for (const p of checkExpect(roam.snapshots, expected, roles)) outcome(`expected: ${p}`);
    if (!ref) why.push('no reference: neither a live Syncthing nor a recording');
    else {
      const diff = diffSnapshots(roam.snapshots, ref.snapshots);
      // Modes alone differ, as D9 says they do: a documented difference of every row that shows it.
      modesOnly = diff.length > 0 && diffSnapshots(ownerModes(roam.snapshots), ownerModes(ref.snapshots)).length === 0;
      if (diff.length && !difference && !modesOnly) for (const d of diff) outcome(`vs reference: ${d}`);
      if (!diff.length && difference) outcome(`documented difference ${difference} not shown: roam's outcome equals the reference's`);
    }
  }
  if (why.length) return { kind: 'mismatch', why: [...why, ...known] };
  const ids = new Set(difference ? [difference] : []);
  if (ref!.observed.tornLine) ids.add(SAMPLED_DIFFERENCE.tornLine);
  if (ref!.observed.vanished) ids.add(SAMPLED_DIFFERENCE.vanished);
  if (modesOnly) ids.add(MODE_DIFFERENCE);
  const rest: Verdict = ids.size ? { kind: 'difference', ids: [...ids].sort() } : { kind: 'same' };
  if (!known.length) return rest;
  // Only the sampled vanish is known: the end states were still compared, say how they came out.
  const onlySampled = known.every((k) => k.startsWith('sampled:'));
  return { kind: 'mismatch', why: known, known: [s.knownBug, s.knownVanish].filter(Boolean).join('; '), ...(onlySampled ? { otherwise: rest } : {}) };
}

export function verdictText(v: Verdict): string {
  if (v.kind === 'same') return 'same';
  if (v.kind === 'difference') return `documented difference (${v.ids.join(', ')})`;
  if (!v.known) return 'MISMATCH';
  return v.otherwise ? `MISMATCH (KNOWN, sampled); end state: ${verdictText(v.otherwise)}` : 'MISMATCH (KNOWN)';
}
