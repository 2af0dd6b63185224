// The conformance suite: every scenario of scenarios.ts played on roam (real roamd processes) and on
// the Syncthing reference (real Syncthing 1.19), compared, and reported per scenario as
//   roam vs reference: same / documented difference (DIFFERENCES.md id) / MISMATCH.
// The reference is the live Syncthing when its binary is present (a drift from the recording is
// reported), else the recording in recorded/. `npm run test:conformance -- --record` (or
// ROAM_CONFORMANCE_RECORD=1) rewrites the recordings from the live run.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SAMPLED_DIFFERENCE, checkExpect, diffSnapshots, mergeExpect, verdict, verdictText, type Outcome, type Recording, type Verdict } from './compare.js';
import type { Driver } from './driver.js';
import { roles, type Scenario } from './dsl.js';
import { RoamDriver, type RoamFolderConfig } from './roam-driver.js';
import { runPlays, type Play } from './runner.js';
import { Sampler } from './sampler.js';
import { SCENARIOS, roamFolders } from './scenarios.js';
import { SyncthingDriver, syncthingAvailable } from './syncthing-driver.js';

/** The whole run (both drivers, in parallel) must end within this; CI's budget for the suite is 6 min. */
const BUDGET_MS = 240_000;
const RECORD = process.env.ROAM_CONFORMANCE_RECORD === '1';
const HERE = path.dirname(fileURLToPath(import.meta.url));
const RECORDED = path.join(HERE, 'recorded');
/** Throws under CI=true without the binary; elsewhere warns loudly and returns false. */
const LIVE = syncthingAvailable();

/** ROAM_CONFORMANCE_ONLY=id,id runs only those scenarios (the others are reported as skipped). */
const ONLY = process.env.ROAM_CONFORMANCE_ONLY?.split(',').filter(Boolean);
const SELECTED = ONLY ? SCENARIOS.filter((s) => ONLY.includes(s.id)) : SCENARIOS;
const byId = new Map(SCENARIOS.map((s) => [s.id, s]));
const outcomes: { roam: Map<string, Outcome>; syncthing: Map<string, Outcome> | null } = { roam: new Map(), syncthing: null };
const drivers: Driver[] = [];
const roamPids: number[] = [];
const progress: string[] = [];
let runMs = 0;

function roamFolderConfig(folder: string): RoamFolderConfig {
  const fork = folder.endsWith('--fork');
  const s = byId.get(fork ? folder.slice(0, -'--fork'.length) : folder);
  if (!s) throw new Error(`no scenario for folder ${folder}`);
  return { conflict: fork ? 'fork' : s.conflict ? 'syncthing' : 'fork', logDeletes: s.logDeletes ?? 'propagate' };
}

/**
 * Starts the devices of a driver kind — one pair and one trio shared by the scenarios, plus a pair of
 * its own for each isolated scenario (a known bug that would stall the others) — plays every
 * scenario, stops them.
 */
async function runKind(kind: 'roam' | 'syncthing', sampler: Sampler): Promise<Map<string, Outcome>> {
  const make = (): Driver => (kind === 'roam' ? new RoamDriver({ folderConfig: roamFolderConfig }) : new SyncthingDriver());
  const play = (s: Scenario): Play => ({ scenario: s, folders: kind === 'roam' ? roamFolders(s) : [s.id] });
  const shared = (topology: Scenario['topology']) => SELECTED.filter((s) => s.topology === topology && !s.isolate).map(play);
  const sets = [
    { driver: make(), devices: ['A', 'B'], plays: shared('pair') },
    { driver: make(), devices: ['A', 'B', 'C'], plays: shared('trio') },
    ...SELECTED.filter((s) => s.isolate).map((s) => ({ driver: make(), devices: s.topology === 'trio' ? ['A', 'B', 'C'] : ['A', 'B'], plays: [play(s)] })),
  ].filter((x) => x.plays.length);
  drivers.push(...sets.map((x) => x.driver));
  try {
    const t0 = Date.now();
    await Promise.all(sets.map((x) => x.driver.start(x.devices, x.plays.flatMap((p) => p.folders))));
    for (const x of sets) if (x.driver instanceof RoamDriver) roamPids.push(...x.driver.pids());
    progress.push(`${kind}: started ${sets.map((x) => x.devices.length).join(' + ')} devices in ${Date.now() - t0} ms`);
    const maps = await Promise.all(sets.map((x) => runPlays(x.driver, x.devices, x.plays, { sampler, log: (l) => progress.push(l), settleMs: 30_000 })));
    return new Map(maps.flatMap((m) => [...m]));
  } finally {
    const t1 = Date.now();
    await Promise.all(sets.map((x) => x.driver.stop()));
    progress.push(`${kind}: stopped in ${Date.now() - t1} ms`);
  }
}

function recordingPath(id: string): string {
  return path.join(RECORDED, `${id}.json`);
}

function readRecording(id: string): Recording | undefined {
  const p = recordingPath(id);
  return existsSync(p) ? (JSON.parse(readFileSync(p, 'utf8')) as Recording) : undefined;
}

function syncthingVersion(): string {
  const out = execFileSync('syncthing', ['--version'], { encoding: 'utf8' }).trim();
  return out.replace(/\)\s.*$/, ')');
}

interface Row {
  scenario: string;
  variant: string;
  reference: string;
  /** The reference side is broken (live outcome off its written expectation, or it failed). */
  referenceFails: string[];
  verdict: Verdict;
  ms: number;
}

/** The rows of one scenario: the reference's state, then roam per folder. */
function rowsOf(s: Scenario): Row[] {
  const recorded = readRecording(s.id);
  const liveOutcome = outcomes.syncthing?.get(s.id);
  const rs = roles(s);
  let reference: string;
  const referenceFails: string[] = [];
  let ref: { snapshots: Outcome['snapshots']; observed: { tornLine: boolean; vanished: boolean } } | undefined;
  if (outcomes.syncthing) {
    if (!liveOutcome || liveOutcome.error) {
      reference = `live ERROR${recorded ? ', compared with the recording' : ''}`;
      referenceFails.push(`Syncthing: ${liveOutcome?.error ?? 'did not run'}`);
      ref = recorded;
    } else {
      ref = liveOutcome;
      referenceFails.push(...checkExpect(liveOutcome.snapshots, s.expect, rs).map((p) => `Syncthing live vs the scenario's expect: ${p}`));
      // What sampling catches depends on timing (a 1-2 ms gap, a scan during a partial line): shown,
      // not counted as drift. End states and snapshots are deterministic: any change is drift.
      const sampled = sampledText(liveOutcome.observed);
      if (!recorded) reference = `live (no recording)${sampled}`;
      else {
        const drift = diffSnapshots(liveOutcome.snapshots, recorded.snapshots, ['live', 'recorded']);
        if (drift.length) drifts.push(`${s.id}: ${drift.join('; ')}`);
        reference = `${drift.length ? 'live, DRIFT from recorded' : 'live = recorded'}${sampled}`;
      }
      if (referenceFails.length) reference += ' (≠ expect!)';
    }
  } else if (recorded) {
    ref = recorded;
    reference = `recorded (no live binary)${sampledText(recorded.observed)}`;
    referenceFails.push(...checkExpect(recorded.snapshots, s.expect, rs).map((p) => `recording vs the scenario's expect: ${p}`));
  } else {
    reference = 'NONE (no binary, no recording)';
  }
  const variants = [{ variant: s.conflict ? 'roam syncthing-mode' : 'roam', folder: s.id, over: s.roam }];
  if (s.conflict) variants.push({ variant: 'roam fork-mode', folder: `${s.id}--fork`, over: s.fork });
  return variants.map(({ variant, folder, over }) => {
    const o = outcomes.roam.get(folder);
    return { scenario: s.id, variant, reference, referenceFails, verdict: verdict(s, o, ref, mergeExpect(s.expect, over?.expect), over?.difference, rs), ms: o?.ms ?? 0 };
  });
}

/** Drifts of the live reference from its recordings, printed under the table. */
const drifts: string[] = [];

function sampledText(o: { tornLine: boolean; vanished: boolean }): string {
  const seen = [...(o.tornLine ? ['torn line'] : []), ...(o.vanished ? ['vanish'] : [])];
  return seen.length ? `; sampled: ${seen.join(', ')}` : '';
}

function table(rows: Row[]): string {
  const head = ['scenario', 'roam folder', 'reference (Syncthing live vs recorded)', 'roam vs reference', 'roam ms'];
  const body = rows.map((r) => [r.scenario, r.variant, r.reference.length > 70 ? `${r.reference.slice(0, 67)}...` : r.reference, verdictText(r.verdict), String(r.ms)]);
  const w = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)));
  const fmt = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(w[i]!)).join(' | ')} |`;
  return [fmt(head), `|${w.map((n) => '-'.repeat(n + 2)).join('|')}|`, ...body.map(fmt)].join('\n');
}

describe('conformance: roam against the Syncthing 1.19 reference', () => {
  beforeAll(async () => {
    if (RECORD && !LIVE) throw new Error('--record needs the syncthing binary (apt-get install -y syncthing)');
    const t0 = Date.now();
    const sampler = new Sampler();
    try {
      const [roam, syncthing] = await Promise.all([runKind('roam', sampler), LIVE ? runKind('syncthing', sampler) : Promise.resolve(null)]);
      outcomes.roam = roam;
      outcomes.syncthing = syncthing;
    } finally {
      await sampler.stop();
      runMs = Date.now() - t0;
    }
  }, BUDGET_MS + 60_000);

  afterAll(async () => {
    await Promise.allSettled(drivers.map((d) => d.stop()));
    drifts.length = 0;
    const rows = SELECTED.flatMap(rowsOf);
    const counts = { same: 0, difference: 0, mismatch: 0, known: 0 };
    for (const r of rows) {
      if (r.verdict.kind !== 'mismatch') counts[r.verdict.kind]++;
      else if (r.verdict.known) counts.known++;
      else counts.mismatch++;
    }
    console.log(
      [
        '',
        `conformance: ${SELECTED.length} scenarios, reference ${LIVE ? 'live Syncthing' : 'RECORDED ONLY (no syncthing binary)'}${RECORD ? ', RECORDING' : ''}`,
        ...progress.map((p) => `  ${p}`),
        table(rows),
        `same ${counts.same}, documented difference ${counts.difference}, mismatch ${counts.mismatch}, known mismatch ${counts.known}; total ${(runMs / 1000).toFixed(1)} s (budget ${BUDGET_MS / 1000} s)`,
        ...rows.flatMap((r) => (r.verdict.kind === 'mismatch' ? [`${r.verdict.known ? `KNOWN MISMATCH (${r.verdict.known}) ` : 'MISMATCH '}${r.scenario} [${r.variant}]:\n    ${r.verdict.why.join('\n    ')}`] : [])),
        ...drifts.map((d) => `DRIFT of the live reference from its recording, ${d}`),
        ...rows.filter((r) => r.verdict.kind !== 'mismatch' && byId.get(r.scenario)?.knownBug).map((r) => `NOTICE ${r.scenario} [${r.variant}]: no mismatch any more; remove its knownBug entry`),
        ...rows.filter((r) => r.referenceFails.length && r.variant !== 'roam fork-mode').map((r) => `REFERENCE ${r.scenario}:\n    ${r.referenceFails.join('\n    ')}`),
      ].join('\n'),
    );
    // No daemon of ours outlives the suite (Syncthing's driver checks its own sessions on stop).
    const alive = roamPids.filter((pid) => {
      try {
        process.kill(pid, 0);
        return true;
      } catch {
        return false;
      }
    });
    if (alive.length) throw new Error(`roamd processes left running: ${alive.join(', ')}`);
  });

  it(`runs within its time budget (${BUDGET_MS / 1000} s)`, () => {
    expect(runMs).toBeLessThan(BUDGET_MS);
  });

  for (const s of SCENARIOS) {
    it.skipIf(!SELECTED.includes(s))(`${s.id}: ${s.title}`, () => {
      for (const r of rowsOf(s)) {
        expect(r.referenceFails, `${s.id}: the reference`).toEqual([]);
        if (r.verdict.kind === 'mismatch' && !r.verdict.known) expect.fail(`${s.id} [${r.variant}] MISMATCH:\n  ${r.verdict.why.join('\n  ')}`);
      }
    });
  }

  it.skipIf(ONLY !== undefined && !RECORD)('has a recording of the reference for every scenario', () => {
    if (RECORD) {
      mkdirSync(RECORDED, { recursive: true });
      const version = syncthingVersion();
      for (const s of SELECTED) {
        const o = outcomes.syncthing?.get(s.id);
        if (!o || o.error) continue;
        const rec: Recording = {
          scenario: s.id,
          title: s.title,
          recordedWith: `${version}, fsWatcherDelayS 2`,
          ...(s.rule ? { rule: s.rule } : {}),
          ...(s.note ? { note: s.note } : {}),
          observed: { tornLine: o.observed.tornLine, vanished: o.observed.vanished },
          snapshots: o.snapshots,
        };
        writeFileSync(recordingPath(s.id), `${JSON.stringify(rec, null, 1)}\n`);
      }
    }
    expect(SCENARIOS.filter((s) => !readRecording(s.id)).map((s) => s.id)).toEqual([]);
  });

  it('names only differences that DIFFERENCES.md documents, and documents only differences a scenario shows', () => {
    const doc = readFileSync(path.join(HERE, 'DIFFERENCES.md'), 'utf8');
    const entries = new Map([...doc.matchAll(/^## (D\d+)\b.*$/gm)].map((m) => [m[1]!, m[0]]));
    const used = new Set<string>(Object.values(SAMPLED_DIFFERENCE));
    for (const s of SCENARIOS) for (const v of [s.roam, s.fork]) if (v?.difference) used.add(v.difference);
    expect([...used].filter((id) => !entries.has(id)), 'ids used by scenarios but not in DIFFERENCES.md').toEqual([]);
    expect([...entries.keys()].filter((id) => !used.has(id)), 'entries no scenario shows').toEqual([]);
    for (const id of entries.keys()) expect(doc, `${id} names the scenario that shows it`).toMatch(new RegExp(`## ${id}\\b[\\s\\S]*?Shown by:`));
  });
});
