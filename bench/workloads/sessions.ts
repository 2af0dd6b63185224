/**
 * W6, `roam list --json` and `roam search` over 10,000 sessions: a roamd over a HOME holding the
 * sessions (indexed), then `roam list --json --all` (every project: the harness's own directory is
 * none of them) and `roam search <token>` (a token planted in every 100th session), each timed end
 * to end as a user runs them (a fresh `roam` process), alternating, 5 times each in the full mode. The first `roam list` reads every session
 * (no metadata cache yet: the cold figure); the later ones answer from the cache.
 */
import { corpus, type Ctx, type WorkloadResult } from '../lib/context.js';
import { linkTree } from '../lib/fsutil.js';
import { roamIndexed, scratch } from '../lib/pairs.js';
import { RoamNode } from '../lib/roam.js';
import { summarize } from '../lib/util.js';

export async function listSearch(ctx: Ctx, res: WorkloadResult): Promise<void> {
  const root = scratch(ctx, 'l');
  const node = new RoamNode(root, 'L', { nodeArgs: ctx.roamdNodeArgs });
  const count = ctx.sizes.sessions;
  const t0 = Date.now();
  const c = await corpus(ctx, 'sessions', { kind: 'sessions', count, bytes: ctx.sizes.sessionsBytes });
  const m = c.manifest as typeof c.manifest & { needle?: string; needleSessions?: number };
  res.sizes = { sessions: m.sessions, files: m.files.length, bytes: `${(m.totalBytes / 1e6).toFixed(1)} MB`, searchToken: `${m.needle} (in ${m.needleSessions} sessions)` };
  res.notes.push(`10,000-session generator: ${m.sessions} sessions, ${m.files.length} files, ${(m.totalBytes / 1e6).toFixed(1)} MB, ready in ${((Date.now() - t0) / 1000).toFixed(1)} s (cached corpora load instantly)`);
  await linkTree(c.dir, node.projects, c.manifest.files);
  try {
    await node.start();
    await roamIndexed(node, c.manifest.files.length, c.manifest.totalBytes, 600_000);
    const list: number[] = [];
    const search: number[] = [];
    const reps = ctx.quick ? 1 : 5;
    for (let i = 0; i < reps; i++) {
      const l = node.cli('list', '--json', '--all');
      if (l.status !== 0) throw new Error(`roam list --json --all exited ${l.status}: ${l.stderr.slice(0, 500)}`);
      const listed = (JSON.parse(l.stdout) as unknown[]).length;
      if (listed !== m.sessions) throw new Error(`roam list --json --all listed ${listed} sessions, not ${m.sessions}`);
      list.push(l.ms);
      const s = node.cli('search', m.needle ?? 'zebracorn');
      if (s.status !== 0) throw new Error(`roam search exited ${s.status}: ${s.stderr.slice(0, 500)}`);
      search.push(s.ms);
    }
    const ls = summarize(list);
    const ss = summarize(search);
    res.figures.push({ id: 'list.time', label: `roam list --json --all over ${m.sessions} sessions (process start to exit)`, unit: 'ms', summary: ls, samples: list, target: { text: '≤ 300 ms', met: ls.median <= 300 } });
    res.figures.push({ id: 'search.time', label: `roam search over ${m.sessions} sessions (process start to exit)`, unit: 'ms', summary: ss, samples: search, target: { text: '≤ 2 s', met: ss.median <= 2000 } });
  } finally {
    await node.stop();
  }
}
