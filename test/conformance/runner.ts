// Plays scenarios against a Driver. Scenarios that share a device set run together: those without
// link steps (pause, resume, stop, start) all at once, each in its own folder; those with the same
// link steps in lockstep — every scenario's steps up to the next link step, then that link step once
// for all of them. Each scenario may play into several folders at once (roam's two conflict modes).
import { closeSync, fchmodSync, futimesSync, mkdirSync, mkdtempSync, openSync, renameSync, rmSync, statSync, writeSync, ftruncateSync, chmodSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Driver, TreeEntry } from './driver.js';
import { BASE_MS, LINK_STEPS, bytesOf, roles, type Role, type Scenario, type Step } from './dsl.js';
import { normalize, type Observed, type Outcome } from './compare.js';
import type { Sampler } from './sampler.js';

export interface Play {
  scenario: Scenario;
  /** The folders (driver scenario ids) this scenario plays into, in lockstep. */
  folders: string[];
}

export interface RunOptions {
  sampler: Sampler;
  /** Progress lines. */
  log?: (line: string) => void;
  /** Default `settle` deadline. */
  settleMs?: number;
}

/** Runs the plays on one started driver; returns an outcome per folder. */
export async function runPlays(driver: Driver, devices: string[], plays: Play[], opts: RunOptions): Promise<Map<string, Outcome>> {
  const results = new Map<string, Outcome>();
  const scratch = mkdtempSync(path.join(os.tmpdir(), 'roam-conformance-scratch-'));
  try {
    const bound = plays.map((p) => ({ ...p, bind: bind(driver, p.scenario, devices) }));
    // Group by the link steps, bound to physical devices: equal signatures run in lockstep.
    const groups = new Map<string, typeof bound>();
    for (const p of bound) {
      const sig = JSON.stringify(p.scenario.steps.filter((st) => LINK_STEPS.has(st.t)).map((st) => physicalLink(st, p.bind)));
      if (!groups.has(sig)) groups.set(sig, []);
      groups.get(sig)!.push(p);
    }
    // Those without link steps first (most scenarios, all at once).
    const ordered = [...groups.entries()].sort(([a], [b]) => (a === '[]' ? -1 : b === '[]' ? 1 : 0));
    for (const [sig, group] of ordered) {
      const t0 = Date.now();
      await runGroup(driver, group, scratch, opts, results);
      opts.log?.(`${driver.kind}: ${group.map((p) => p.scenario.id).join(', ')} (links ${sig}) in ${Date.now() - t0} ms`);
    }
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
  return results;
}

/** Role → device name: identity, except tie scenarios (S, L = smaller, larger short id). */
function bind(driver: Driver, s: Scenario, devices: string[]): Record<Role, string> {
  if (!s.tie) return Object.fromEntries(roles(s).map((r) => [r, r]));
  const [x, y] = devices as [string, string];
  const [small, large] = driver.shortIdOf(x) < driver.shortIdOf(y) ? [x, y] : [y, x];
  return { S: small, L: large };
}

function physicalLink(st: Step, b: Record<Role, string>): unknown {
  if (st.t === 'pause' || st.t === 'resume') return { t: st.t, link: [b[st.a], b[st.b]].sort() };
  if (st.t === 'stop' || st.t === 'start') return { t: st.t, dev: b[st.dev] };
  throw new Error(`not a link step: ${st.t}`);
}

interface Live {
  play: Play & { bind: Record<Role, string> };
  /** The next step to play. */
  at: number;
  error?: string;
  fromMs: number;
  t0: number;
  raw: Map<string, Record<string, Record<Role, TreeEntry[]>>>;
  watches: Array<{ folder: string; id: number; role: Role }>;
}

async function runGroup(driver: Driver, group: Array<Play & { bind: Record<Role, string> }>, scratch: string, opts: RunOptions, results: Map<string, Outcome>): Promise<void> {
  const lives: Live[] = group.map((play) => ({ play, at: 0, fromMs: Date.now(), t0: performance.now(), raw: new Map(play.folders.map((f) => [f, {}])), watches: [] }));
  const paused: Array<[string, string]> = [];
  const stopped: string[] = [];
  for (const l of lives) {
    const s = l.play.scenario.sample;
    if (!s) continue;
    for (const folder of l.play.folders) {
      for (const role of s.on) {
        for (const p of s.paths) {
          const abs = path.join(driver.device(l.play.bind[role]!).folder(folder), p);
          l.watches.push({ folder, role, id: opts.sampler.watch(abs, { torn: (s.torn ?? true) && p.endsWith('.jsonl'), vanish: s.vanish ?? true }) });
        }
      }
    }
  }
  const segment = async (l: Live): Promise<void> => {
    const steps = l.play.scenario.steps;
    try {
      for (; l.at < steps.length && !LINK_STEPS.has(steps[l.at]!.t); l.at++) await playStep(driver, l, steps[l.at]!, scratch, opts);
    } catch (err) {
      l.error = `step ${l.at} (${steps[l.at]?.t}): ${(err as Error).message}`;
    }
  };
  // Every scenario of the group has these link steps, bound to the same devices (the signature).
  const first = group[0]!;
  const links = first.scenario.steps.filter((st) => LINK_STEPS.has(st.t));
  try {
    for (let k = 0; ; k++) {
      await Promise.all(lives.filter((l) => !l.error).map(segment));
      if (k === links.length || lives.every((l) => l.error)) break;
      const st = links[k]!;
      for (const l of lives) if (!l.error) l.at++;
      try {
        const b = first.bind;
        if (st.t === 'pause') {
          await driver.pause(b[st.a]!, b[st.b]!);
          paused.push([b[st.a]!, b[st.b]!]);
        } else if (st.t === 'resume') {
          await driver.resume(b[st.a]!, b[st.b]!);
          paused.splice(paused.findIndex(([x, y]) => [x, y].sort().join() === [b[st.a]!, b[st.b]!].sort().join()), 1);
        } else if (st.t === 'stop') {
          await driver.stopDevice(b[st.dev]!);
          stopped.push(b[st.dev]!);
        } else if (st.t === 'start') {
          await driver.startDevice(b[st.dev]!);
          stopped.splice(stopped.indexOf(b[st.dev]!), 1);
        }
      } catch (err) {
        for (const l of lives) l.error ??= `link step ${st.t}: ${(err as Error).message}`;
      }
    }
    for (const l of lives) {
      if (l.error) continue;
      try {
        await snapshot(driver, l, 'end');
      } catch (err) {
        l.error = `end snapshot: ${(err as Error).message}`;
      }
    }
  } finally {
    // Leave the devices as the next group expects them: all running, no link paused.
    for (const d of stopped) await driver.startDevice(d).catch(() => undefined);
    for (const [a, b] of paused) await driver.resume(a, b).catch(() => undefined);
  }
  const toMs = Date.now();
  for (const l of lives) {
    const observed: Record<string, Observed> = Object.fromEntries(l.play.folders.map((f) => [f, { tornLine: false, vanished: false, details: [] }]));
    for (const w of l.watches) {
      const r = await opts.sampler.collect(w.id);
      const o = observed[w.folder]!;
      for (const v of r.violations) {
        if (v.kind === 'torn') o.tornLine = true;
        else o.vanished = true;
      }
      const torn = r.violations.filter((v) => v.kind === 'torn');
      const gone = r.violations.filter((v) => v.kind === 'vanished');
      const rel = path.relative(driver.device(l.play.bind[w.role]!).folder(w.folder), r.path);
      if (torn.length) o.details.push(`${w.role}:${rel} showed a partial line ${torn.length}× (sizes ${torn.slice(0, 3).map((v) => v.size).join(', ')})`);
      if (gone.length) o.details.push(`${w.role}:${rel} vanished ${gone.length}× (for ${gone.slice(0, 3).map((v) => (v.gapMs < 0 ? 'the rest of the run' : `${v.gapMs} ms`)).join(', ')})`);
    }
    const idToRole: Record<string, Role> = {};
    for (const [role, dev] of Object.entries(l.play.bind)) idToRole[driver.conflictIdOf(dev)] = role;
    for (const folder of l.play.folders) {
      const raw = l.raw.get(folder)!;
      const snapshots = Object.fromEntries(Object.entries(raw).map(([label, trees]) => [label, normalize(trees, { idToRole, fromMs: l.fromMs, toMs })]));
      results.set(folder, { snapshots, observed: observed[folder]!, ...(l.error ? { error: l.error } : {}), ms: Math.round(performance.now() - l.t0) });
    }
  }
}

async function snapshot(driver: Driver, l: Live, label: string): Promise<void> {
  for (const folder of l.play.folders) {
    const trees: Record<Role, TreeEntry[]> = {};
    for (const [role, dev] of Object.entries(l.play.bind)) trees[role] = await driver.tree(dev, folder);
    l.raw.get(folder)![label] = trees;
  }
}

async function playStep(driver: Driver, l: Live, st: Step, scratch: string, opts: RunOptions): Promise<void> {
  const b = l.play.bind;
  const at = (dev: Role, folder: string, p: string) => {
    const name = b[dev];
    if (!name) throw new Error(`no device for role ${dev}`);
    return { root: driver.device(name).folder(folder), abs: path.join(driver.device(name).folder(folder), p) };
  };
  const mtimeOf = (s: number | undefined) => (BASE_MS + (s ?? 0) * 1000) / 1000;
  switch (st.t) {
    case 'write':
    case 'append':
      for (const f of l.play.folders) {
        const { root, abs } = at(st.dev, f, st.path);
        mkdirs(root, path.dirname(abs));
        writeAt(abs, st.t === 'write' ? 'w' : 'a', bytesOf(st.content), mtimeOf(st.mtime), st.t === 'write' ? st.mode ?? 0o644 : undefined);
      }
      return;
    case 'truncate':
      for (const f of l.play.folders) {
        const fd = openSync(at(st.dev, f, st.path).abs, 'r+');
        try {
          ftruncateSync(fd, st.size);
          futimesSync(fd, mtimeOf(st.mtime), mtimeOf(st.mtime));
        } finally {
          closeSync(fd);
        }
      }
      return;
    case 'replace':
      for (const f of l.play.folders) {
        const { root, abs } = at(st.dev, f, st.path);
        mkdirs(root, path.dirname(abs));
        const tmp = path.join(scratch, `replace-${process.hrtime.bigint()}`);
        writeAt(tmp, 'w', bytesOf(st.content), mtimeOf(st.mtime), st.mode ?? 0o644);
        renameSync(tmp, abs);
      }
      return;
    case 'remove':
      for (const f of l.play.folders) rmSync(at(st.dev, f, st.path).abs, { recursive: true });
      return;
    case 'rename':
      for (const f of l.play.folders) {
        const from = at(st.dev, f, st.from);
        const to = at(st.dev, f, st.to);
        mkdirs(to.root, path.dirname(to.abs));
        renameSync(from.abs, to.abs);
      }
      return;
    case 'mkdir':
      for (const f of l.play.folders) {
        const { root, abs } = at(st.dev, f, st.path);
        mkdirs(root, abs);
      }
      return;
    case 'ignore':
      for (const f of l.play.folders) await driver.setIgnores(b[st.dev]!, f, st.lines);
      return;
    case 'settle':
      // An isolated scenario is a known bug that may never settle: do not wait long for it.
      await Promise.all(l.play.folders.map((f) => driver.settled(f, { timeoutMs: st.timeoutMs ?? (l.play.scenario.isolate ? 10_000 : opts.settleMs ?? 30_000) })));
      return;
    case 'snapshot':
      await snapshot(driver, l, st.label);
      return;
    case 'stream':
      for (let i = 0; i < st.count; i++) {
        const whole = Buffer.from(st.line(i), 'utf8');
        const cut = Math.floor(whole.length / 2);
        const t = mtimeOf((st.mtime ?? 0) + (i * st.everyMs) / 1000);
        const started = Date.now();
        for (const f of l.play.folders) writeAt(at(st.dev, f, st.path).abs, 'a', whole.subarray(0, cut), t);
        await delay(st.splitMs);
        for (const f of l.play.folders) writeAt(at(st.dev, f, st.path).abs, 'a', whole.subarray(cut), t);
        if (i < st.count - 1) await delay(Math.max(0, st.everyMs - (Date.now() - started)));
      }
      return;
    case 'nextSecond': {
      const s = Math.floor(Date.now() / 1000);
      while (Math.floor(Date.now() / 1000) === s) await delay(20);
      return;
    }
    default:
      throw new Error(`not a folder step: ${st.t}`);
  }
}

/** The bytes, then mode and mtime on the same descriptor: no scan can see them apart. */
function writeAt(abs: string, flag: 'w' | 'a', data: Uint8Array, mtimeS: number, mode?: number): void {
  const fd = openSync(abs, flag, mode ?? 0o644);
  try {
    let off = 0;
    while (off < data.length) off += writeSync(fd, data, off, data.length - off);
    if (mode !== undefined) fchmodSync(fd, mode);
    futimesSync(fd, mtimeS, mtimeS);
  } finally {
    closeSync(fd);
  }
}

/** mkdir -p below `root`, every new directory 0755 whatever the umask. */
function mkdirs(root: string, dir: string): void {
  const rel = path.relative(root, dir);
  if (rel === '' || rel.startsWith('..')) return;
  let cur = root;
  for (const part of rel.split(path.sep)) {
    cur = path.join(cur, part);
    try {
      statSync(cur);
    } catch {
      mkdirSync(cur);
      chmodSync(cur, 0o755);
    }
  }
}

function delay(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
