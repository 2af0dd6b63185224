/**
 * A preload that lets the harness read roamd's own store counters (FsStoreStats of every
 * FsFolderStore: item bytes read, tail-check bytes, bytes hashed, fsyncs) without a control-socket
 * call: on SIGUSR2, roamd writes them to the file named by ROAM_BENCH_STORE_STATS (default
 * /tmp/store-stats-<pid>.json) as { seq, at, stores: [{ root, bytesRead, tailBytesRead,
 * bytesHashed, fsyncs }] }, `seq` counting the dumps. It only observes: it wraps
 * FsFolderStore.create to keep a reference to each store's `stats` object and adds the signal handler.
 * W4 uses it (lib/store-stats.ts) to tell content re-reads (bytesRead) from tail checks.
 *   node --require bench/dist/tools/store-stats.cjs packages/cli/dist/roamd.js …; kill -USR2 <pid>
 */
import fs = require('node:fs');

interface Stats { bytesRead: number; tailBytesRead: number; bytesHashed: number; fsyncs: number }
type Create = (this: unknown, opts: { root: string }) => Promise<{ stats: Stats }>;

const file = process.env.ROAM_BENCH_STORE_STATS ?? `/tmp/store-stats-${process.pid}.json`;
const stores: Array<{ root: string; stats: Stats }> = [];
let seq = 0;
let hooked = false;

process.on('SIGUSR2', () => {
  seq++;
  const out = { seq, at: Date.now(), hooked, stores: stores.map((s) => ({ root: s.root, ...s.stats })) };
  const tmp = `${file}.tmp`;
  fs.writeFileSync(tmp, JSON.stringify(out));
  fs.renameSync(tmp, file);
});

void (async () => {
  // The one instance roamd loads (the ES module cache is shared with this preload's import); the
  // import settles long before roamd opens its stores (after its module graph and config).
  const node = (await import('@roam/core/node')) as unknown as { FsFolderStore: { create: Create } };
  const cls = node.FsFolderStore;
  const create = cls.create;
  cls.create = async function (opts) {
    const store = await create.call(this, opts);
    stores.push({ root: opts.root, stats: store.stats });
    return store;
  };
  hooked = true;
})().catch((err: unknown) => process.stderr.write(`store-stats: ${String(err)}\n`));
