/**
 * A diagnostic preload for roamd (not used by the benchmarks themselves): samples
 * process.memoryUsage() every 500 ms and writes the samples and the peak of each field to
 * /tmp/mem-probe-<pid>.json, to tell a large RSS's JS heap from its buffers (external, arrayBuffers).
 *   npm run bench -- --only initial --roamd-node-args "--require $PWD/bench/dist/tools/mem-probe.cjs"
 */
import fs = require('node:fs');

const samples: Array<{ t: number; rss: number; heapTotal: number; heapUsed: number; external: number; arrayBuffers: number }> = [];
const peak = { rss: 0, heapTotal: 0, heapUsed: 0, external: 0, arrayBuffers: 0 };
const t0 = Date.now();
const take = () => {
  const m = process.memoryUsage();
  const s = { t: Date.now() - t0, rss: m.rss, heapTotal: m.heapTotal, heapUsed: m.heapUsed, external: m.external, arrayBuffers: m.arrayBuffers };
  samples.push(s);
  for (const k of Object.keys(peak) as Array<keyof typeof peak>) if (s[k] > peak[k]) peak[k] = s[k];
};
const dump = () => fs.writeFileSync(`/tmp/mem-probe-${process.pid}.json`, JSON.stringify({ pid: process.pid, argv: process.argv.slice(2), peak, samples }));
setInterval(() => {
  take();
  if (samples.length % 4 === 0) dump();
}, 500).unref();
process.on('exit', () => {
  take();
  dump();
});
