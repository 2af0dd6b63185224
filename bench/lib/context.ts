/**
 * What every workload gets: the sizes of this run, a scratch directory, cached corpora, and the
 * result types the report is built from.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { generateCorpus, generateLog, generateSessions, type Manifest } from './corpus.js';
import type { LoadInfo } from './proc.js';
import { log, type Summary } from './util.js';

export interface Sizes {
  /** W1: appends measured on roam, and on each Syncthing configuration. */
  appends: number;
  stAppends: number;
  /** W1: the Syncthing fsWatcherDelayS values measured beside roam. */
  stDelays: number[];
  /** W1: pause after an append arrived, before the next one (ms). */
  appendGapMs: number;
  /** W1: the small corpus both sides hold while appending. */
  appendCorpusFiles: number;
  appendCorpusBytes: number;
  /** W2: the initial-sync corpus and how many A/B/A/B rounds. */
  initialFiles: number;
  initialBytes: number;
  initialReps: number;
  /** W3: the big log and how many appends are measured on each tool. */
  bigLogBytes: number;
  bigLogReps: number;
  /** W3: how long the link must stay silent to end a round (ms). */
  quietMs: number;
  /** W4/W5: the large corpus (restart, RSS "10k") and restarts measured. */
  restartFiles: number;
  restartBytes: number;
  restartReps: number;
  /** W5: how long the large corpus's transfer may run (ms; its RSS is sampled meanwhile). */
  syncBoxMs: number;
  /** W4/W5: settling time before idle RSS samples, and the wait for deferred reads after a restart (ms). */
  settleMs: number;
  /** W5: the small corpus (RSS "1k"). */
  smallFiles: number;
  smallBytes: number;
  /** W6: sessions for list/search. */
  sessions: number;
  sessionsBytes: number;
}

const KiB = 1024;
const MiB = 1024 * KiB;
const GiB = 1024 * MiB;

export const FULL: Sizes = {
  appends: 200, stAppends: 100, stDelays: [2, 1], appendGapMs: 100, appendCorpusFiles: 40, appendCorpusBytes: 8 * MiB,
  initialFiles: 5_000, initialBytes: 1 * GiB, initialReps: 3,
  bigLogBytes: 100 * MiB, bigLogReps: 10, quietMs: 1_000,
  restartFiles: 10_000, restartBytes: 2 * GiB, restartReps: 3, syncBoxMs: 360_000, settleMs: 3_000,
  smallFiles: 1_000, smallBytes: 200 * MiB,
  sessions: 10_000, sessionsBytes: 1 * GiB,
};

export const QUICK: Sizes = {
  appends: 10, stAppends: 2, stDelays: [2], appendGapMs: 50, appendCorpusFiles: 12, appendCorpusBytes: 1 * MiB,
  initialFiles: 60, initialBytes: 6 * MiB, initialReps: 1,
  bigLogBytes: 6 * MiB, bigLogReps: 1, quietMs: 500,
  restartFiles: 120, restartBytes: 8 * MiB, restartReps: 1, syncBoxMs: 120_000, settleMs: 300,
  smallFiles: 40, smallBytes: 2 * MiB,
  sessions: 100, sessionsBytes: 4 * MiB,
};

export interface Target {
  text: string;
  /** null: not judged (no reference, or not measured). */
  met: boolean | null;
}

export interface Figure {
  id: string;
  label: string;
  unit: string;
  summary: Summary;
  target?: Target;
  /** Raw samples (kept in the JSON; at most 1000). */
  samples?: number[];
  note?: string;
}

export interface Comparison {
  label: string;
  /** Ids of the figure and its reference, measured in the same run, alternating. */
  figure: string;
  reference: string;
  /** figure median / reference median. */
  ratio: number;
  /** Median of the per-round ratios (rounds alternate roam and reference). */
  pairedRatio?: number;
  /** What a ratio above 1 means. */
  sense: string;
  target?: Target;
}

export type Status = 'ok' | 'partial' | 'error' | 'skipped';

export interface WorkloadResult {
  id: string;
  title: string;
  status: Status;
  error?: string;
  sizes: Record<string, string | number>;
  figures: Figure[];
  comparisons: Comparison[];
  notes: string[];
  load: { before: LoadInfo; after: LoadInfo };
  seconds: number;
}

export interface Ctx {
  quick: boolean;
  sizes: Sizes;
  seed: string;
  /** Scratch root of this run (short path: unix sockets live under it). */
  work: string;
  corpusRoot: string;
  syncthing: boolean;
  /** W2's raw-stream reference. */
  raw: boolean;
  /** Extra node flags for every roamd (profiling). */
  roamdNodeArgs: string[];
  profileDir: string | null;
}

export interface Corpus {
  dir: string;
  manifest: Manifest;
}

/** A corpus from the cache under ctx.corpusRoot, generated on first use (keyed by its spec). */
export async function corpus(ctx: Ctx, name: string, spec: { kind: 'corpus'; files: number; bytes: number } | { kind: 'log'; bytes: number } | { kind: 'sessions'; count: number; bytes: number }): Promise<Corpus> {
  const key = createHash('sha256').update(JSON.stringify({ spec, seed: ctx.seed, v: 1 })).digest('hex').slice(0, 10);
  const dir = path.join(ctx.corpusRoot, `${name}-${key}`);
  const mf = `${dir}.manifest.json`;
  if (existsSync(mf)) {
    try {
      return { dir, manifest: JSON.parse(readFileSync(mf, 'utf8')) as Manifest };
    } catch {
      // regenerate
    }
  }
  await mkdir(dir, { recursive: true });
  const t0 = Date.now();
  let manifest: Manifest;
  if (spec.kind === 'corpus') manifest = generateCorpus(dir, { seed: `${ctx.seed}:${name}`, files: spec.files, bytes: spec.bytes });
  else if (spec.kind === 'sessions') manifest = generateSessions(dir, spec.count, spec.bytes, `${ctx.seed}:${name}`);
  else {
    const rel = '-home-dev-code-big-project/0b1d5e55-4c0f-4d6a-9a1e-2f0e5c1b7a01.jsonl';
    const f = generateLog(path.join(dir, rel), spec.bytes, `${ctx.seed}:${name}`);
    manifest = { spec: { seed: ctx.seed, files: 1, bytes: spec.bytes }, files: [{ ...f, path: rel }], totalBytes: f.size, sessions: 1, projects: 1, lines: { count: 0, p50: 0, p90: 0, p99: 0, max: 0 } };
  }
  writeFileSync(mf, JSON.stringify(manifest));
  log(`generated corpus ${name}: ${manifest.files.length} files, ${(manifest.totalBytes / 1e6).toFixed(1)} MB in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  return { dir, manifest };
}
