/**
 * Summarizes a V8 .cpuprofile (from `npm run bench -- --profile`, which runs every roamd with
 * --cpu-prof): self time and total (inclusive) time per function, top N.
 *   node bench/dist/profile-summary.js <file.cpuprofile> [--top 25] [--filter text] [--timeline 100]
 * --timeline <ms>: also, per window of that many ms from the process start, how busy it was and the
 * functions of roam (pkg:) and its dependencies (nm:) most on the stack then: where a start-up's time goes.
 */
import { readFileSync } from 'node:fs';

interface Node {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
  children?: number[];
}
interface Profile {
  nodes: Node[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

const args = process.argv.slice(2);
const file = args.find((a) => !a.startsWith('--'));
if (!file) {
  process.stderr.write('usage: profile-summary.js <file.cpuprofile> [--top N] [--filter text]\n');
  process.exit(2);
}
const topIdx = args.indexOf('--top');
const top = topIdx >= 0 ? Number(args[topIdx + 1]) : 25;
const filterIdx = args.indexOf('--filter');
const filter = filterIdx >= 0 ? args[filterIdx + 1] : undefined;

const p = JSON.parse(readFileSync(file, 'utf8')) as Profile;
const byId = new Map(p.nodes.map((n) => [n.id, n]));
const parent = new Map<number, number>();
for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
// Time per sample: the delta to the next sample.
const selfUs = new Map<number, number>();
for (let i = 0; i < p.samples.length; i++) {
  const dt = p.timeDeltas[i + 1] ?? 0;
  selfUs.set(p.samples[i]!, (selfUs.get(p.samples[i]!) ?? 0) + dt);
}
const key = (n: Node) => {
  const url = n.callFrame.url.replace(/^file:\/\//, '').replace(/.*\/node_modules\//, 'nm:').replace(/.*\/packages\//, 'pkg:');
  return `${n.callFrame.functionName || '(anonymous)'} ${url}:${n.callFrame.lineNumber + 1}`;
};
const self = new Map<string, number>();
const total = new Map<string, number>();
for (const [id, us] of selfUs) {
  const n = byId.get(id)!;
  self.set(key(n), (self.get(key(n)) ?? 0) + us);
  // Inclusive: every distinct function on the stack gets the sample once.
  const seen = new Set<string>();
  for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
    const k = key(byId.get(cur)!);
    if (seen.has(k)) continue;
    seen.add(k);
    total.set(k, (total.get(k) ?? 0) + us);
  }
}
const wall = (p.endTime - p.startTime) / 1000;
const busy = [...selfUs].filter(([id]) => !['(idle)', '(program)', '(garbage collector)'].includes(byId.get(id)!.callFrame.functionName)).reduce((a, [, us]) => a + us, 0) / 1000;
const gc = [...selfUs].filter(([id]) => byId.get(id)!.callFrame.functionName === '(garbage collector)').reduce((a, [, us]) => a + us, 0) / 1000;
process.stdout.write(`${file}\nwall ${wall.toFixed(0)} ms, JS busy ${busy.toFixed(0)} ms, GC ${gc.toFixed(0)} ms\n`);
const show = (title: string, m: Map<string, number>) => {
  process.stdout.write(`\n${title}\n`);
  for (const [k, us] of [...m].filter(([k]) => !filter || k.includes(filter)).sort((a, b) => b[1] - a[1]).slice(0, top)) {
    process.stdout.write(`${(us / 1000).toFixed(1).padStart(9)} ms  ${k}\n`);
  }
};
show('self time', self);
show('total time (inclusive)', total);

const tlIdx = args.indexOf('--timeline');
if (tlIdx >= 0) {
  const bucketMs = Number(args[tlIdx + 1] ?? 100);
  // Sample i is taken at startTime + sum(timeDeltas[0..i]) and lasts until the next one.
  const buckets = new Map<number, { busy: number; total: number; fns: Map<string, number> }>();
  let t = 0;
  for (let i = 0; i < p.samples.length; i++) {
    t += p.timeDeltas[i] ?? 0;
    const dt = p.timeDeltas[i + 1] ?? 0;
    const b = Math.floor(t / 1000 / bucketMs);
    let e = buckets.get(b);
    if (!e) buckets.set(b, (e = { busy: 0, total: 0, fns: new Map() }));
    e.total += dt;
    const leaf = byId.get(p.samples[i]!)!;
    if (leaf.callFrame.functionName === '(idle)') continue;
    e.busy += dt;
    // The innermost frame of roam's own code, else of a dependency, else the leaf.
    let pick: Node | undefined;
    for (let cur: number | undefined = leaf.id; cur !== undefined; cur = parent.get(cur)) {
      const n = byId.get(cur)!;
      if (/\/packages\//.test(n.callFrame.url)) {
        pick = n;
        break;
      }
      if (!pick && /node_modules/.test(n.callFrame.url)) pick = n;
    }
    const k = key(pick ?? leaf);
    e.fns.set(k, (e.fns.get(k) ?? 0) + dt);
  }
  process.stdout.write(`\ntimeline (${bucketMs} ms windows from the process start: busy share, then the code most on the stack)\n`);
  for (const [b, e] of [...buckets].sort((x, y) => x[0] - y[0])) {
    const fns = [...e.fns].sort((x, y) => y[1] - x[1]).slice(0, 3).map(([k, us]) => `${k} ${(us / 1000).toFixed(0)}`).join('; ');
    process.stdout.write(`${String(b * bucketMs).padStart(7)} ms  ${String(Math.round((100 * e.busy) / Math.max(1, e.total))).padStart(3)} %  ${fns}\n`);
  }
}
