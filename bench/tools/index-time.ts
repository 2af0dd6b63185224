/**
 * A's start and index, then restarts, of one roamd over a corpus directory, for one or several
 * builds of the repository side by side (alternating, in one run, so that the machine's load hits
 * them alike). Per run: wall time from spawn until roamd reports every file indexed, its CPU time
 * (utime+stime at that moment) and its peak RSS (VmHWM).
 *
 *   node bench/dist/tools/index-time.js --corpus <dir> [--restarts 3] [--rounds 2] [--work /tmp/x] [repo…] [-- node flags]
 *
 * Each repo (default: this one) must be built (`tsc -b`, `tsc -p bench`); the corpus is made with
 * `node bench/dist/gen.js corpus --out <dir> --files N --bytes S` and hard-linked into the
 * daemon's folder. Prints one JSON line per start.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { REPO } from '../lib/util.js';

const argv = process.argv.slice(2);
const dashes = argv.indexOf('--');
const nodeArgs = dashes === -1 ? [] : argv.slice(dashes + 1);
const args = dashes === -1 ? argv : argv.slice(0, dashes);
const flag = (f: string, d?: string): string | undefined => {
  const i = args.indexOf(f);
  if (i === -1) return d;
  const v = args[i + 1];
  args.splice(i, 2);
  return v;
};
const corpus = flag('--corpus');
const restarts = Number(flag('--restarts', '3'));
const rounds = Number(flag('--rounds', '1'));
const work = flag('--work', path.join(os.tmpdir(), `roam-index-time-${process.pid}`))!;
const repos = args.length ? args.map((r) => path.resolve(r)) : [REPO];
if (!corpus) {
  process.stderr.write('usage: index-time --corpus <dir> [--restarts N] [--rounds N] [--work dir] [repo…] [-- node flags]\n');
  process.exit(2);
}

const cpuMs = (pid: number) => {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(f[11]) + Number(f[12])) * 10;
};
const peakRssMB = (pid: number) => Math.round(Number(/VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) / 1024);

for (let round = 0; round < rounds; round++) {
  for (const repo of repos) {
    const { RoamNode } = (await import(pathToFileURL(path.join(repo, 'bench/dist/lib/roam.js')).href)) as typeof import('../lib/roam.js');
    const { roamIndexed } = (await import(pathToFileURL(path.join(repo, 'bench/dist/lib/pairs.js')).href)) as typeof import('../lib/pairs.js');
    rmSync(work, { recursive: true, force: true });
    const node = new RoamNode(work, 'A', { nodeArgs });
    try {
      execFileSync('cp', ['-al', `${corpus}/.`, `${node.projects}/`]);
      const files = execFileSync('find', [node.projects, '-type', 'f', '-printf', '%s\\n']).toString().trim().split('\n').map(Number);
      const bytes = files.reduce((a, b) => a + b, 0);
      for (let r = 0; r <= restarts; r++) {
        await node.start();
        await roamIndexed(node, files.length, bytes, 900_000);
        const wallMs = Date.now() - node.spawnedAt;
        const load = readFileSync('/proc/loadavg', 'utf8').split(' ')[0];
        console.log(JSON.stringify({ repo, round, run: r === 0 ? 'first-index' : 'restart', files: files.length, bytes, wallMs, cpuMs: cpuMs(node.pid), peakRssMB: peakRssMB(node.pid), load }));
        await node.stop();
      }
    } finally {
      await node.stop().catch(() => undefined);
      rmSync(work, { recursive: true, force: true });
    }
  }
}
