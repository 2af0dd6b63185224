/**
 * `roam rm` and `roam restore` end to end: three real roamd processes on 127.0.0.1, a Claude Code
 * project under each device's own home (so each keeps it under another local project key), the
 * real `roam` CLI.
 */
import { spawnSync } from 'node:child_process';
import { appendFileSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { until } from '../../packages/core/test/support/poll.js';
import { claudeProjectKey } from '../support/claude.js';
import { ROAM, makeDaemon, stopAll, type DaemonHandle } from '../support/daemons.js';

afterEach(stopAll);

const SID = '3c0ffee0-1111-4222-8333-944445555666'; // removed everywhere, then restored
const OLD = '3c0ffee0-7777-4888-9999-aaaabbbbcccc'; // deleted on A only, as Claude Code's clean-up would
const BUSY = '5b5b5b5b-0000-4000-8000-000000000001'; // being written on A

const line = (id: string, cwd: string, i: number) =>
  `${JSON.stringify({ type: i % 2 ? 'assistant' : 'user', cwd, sessionId: id, uuid: `${id.slice(0, 8)}-${i}`, timestamp: new Date(Date.UTC(2026, 10, 1, 12, 0, i)).toISOString(), message: { role: i % 2 ? 'assistant' : 'user', content: `message ${i}` } })}\n`;

/** A Claude Code project of A's: three sessions, SID with sub-agents and tool results. Written 10 minutes ago. */
function project(a: DaemonHandle): string {
  const cwd = join(a.home, 'code', 'app');
  mkdirSync(cwd, { recursive: true });
  const dir = join(a.projects, claudeProjectKey(cwd));
  mkdirSync(join(dir, SID, 'subagents'), { recursive: true });
  mkdirSync(join(dir, SID, 'tool-results'), { recursive: true });
  const files: Record<string, string> = {
    [`${SID}.jsonl`]: Array.from({ length: 20 }, (_, i) => line(SID, cwd, i)).join(''),
    [`${SID}/subagents/agent-a1.jsonl`]: Array.from({ length: 5 }, (_, i) => line(SID, cwd, 100 + i)).join(''),
    [`${SID}/tool-results/toolu_01.txt`]: 'result line\n'.repeat(500),
    [`${OLD}.jsonl`]: Array.from({ length: 6 }, (_, i) => line(OLD, cwd, i)).join(''),
    [`${BUSY}.jsonl`]: Array.from({ length: 4 }, (_, i) => line(BUSY, cwd, i)).join(''),
  };
  const then = (Date.now() - 10 * 60_000) / 1000;
  for (const [rel, content] of Object.entries(files)) {
    writeFileSync(join(dir, rel), content);
    utimesSync(join(dir, rel), then, then);
  }
  return dir;
}

/** The project directory holding `<id>.jsonl` on a device (each device has its own key), or null. */
function sessionDir(d: DaemonHandle, id: string): string | null {
  for (const key of existsSync(d.projects) ? readdirSync(d.projects) : []) if (existsSync(join(d.projects, key, `${id}.jsonl`))) return join(d.projects, key);
  return null;
}

function ok(r: { status: number | null; stdout: string; stderr: string }): string {
  expect(r.status, r.stderr).toBe(0);
  return r.stdout;
}

interface TrashView {
  id: string;
  folder: string;
  name: string;
  path: string;
  session: string | null;
  size: number;
}

const trash = (d: DaemonHandle) => JSON.parse(ok(d.roam('restore', '--list', '--json'))) as TrashView[];

describe('roam rm / roam restore', () => {
  it('rm deletes a session on every device into each trash; a local delete stays local; restore brings it back everywhere; a restart changes nothing', async () => {
    const a = makeDaemon('alpha');
    const b = makeDaemon('beta');
    const c = makeDaemon('gamma');
    const dirA = project(a);
    await a.start();
    await b.start(['--peer', a.addresses[0]!]);
    await c.start(['--peer', a.addresses[0]!, '--peer', b.addresses[0]!]);
    const files = [`${SID}.jsonl`, `${SID}/subagents/agent-a1.jsonl`, `${SID}/tool-results/toolu_01.txt`];
    for (const d of [b, c]) {
      await until(() => [SID, OLD, BUSY].every((id) => sessionDir(d, id) !== null) && files.every((f) => existsSync(join(sessionDir(d, SID)!, f))), { timeoutMs: 30_000, what: `${d.name} to receive the project` });
    }
    const dirB = sessionDir(b, SID)!;
    const dirC = sessionDir(c, SID)!;
    // Each device keeps the project under its own key (its own home): rm must still hit the right files.
    expect(new Set([dirA, dirB, dirC]).size).toBe(3);
    const original = Object.fromEntries(files.map((f) => [f, readFileSync(join(dirA, f))]));

    // 1. A plain delete on A (Claude Code's clean-up) stays on A.
    rmSync(join(dirA, `${OLD}.jsonl`));
    ok(a.roam('sync'));
    ok(b.roam('sync', '--wait', '--timeout', '30'));
    ok(c.roam('sync', '--wait', '--timeout', '30'));
    expect(existsSync(join(dirB, `${OLD}.jsonl`))).toBe(true);
    expect(existsSync(join(dirC, `${OLD}.jsonl`))).toBe(true);

    // 2. Refusals: an unknown session; a session another device is writing (unless --force).
    const none = b.roam('rm', 'ffffffff-0000', '--yes');
    expect(none.status).toBe(1);
    expect(none.stderr).toMatch(/^ROAM_SESSION_NOT_FOUND: /);
    appendFileSync(join(dirA, `${BUSY}.jsonl`), line(BUSY, join(a.home, 'code', 'app'), 4));
    await until(() => /^ROAM_SESSION_BUSY: .*alpha is using it/.test(b.roam('rm', BUSY, '--dry-run').stderr), { timeoutMs: 30_000, everyMs: 250, what: "beta to see alpha's lease" });
    const busy = b.roam('rm', BUSY);
    expect(busy.status).toBe(1);
    expect(busy.stderr.trim().split('\n')).toHaveLength(1);
    expect(existsSync(join(dirB, `${BUSY}.jsonl`))).toBe(true);

    // 3. A dry run removes nothing; roam rm on B removes the session on A and C too.
    const dry = JSON.parse(ok(b.roam('rm', SID.slice(0, 13), '--dry-run', '--json'))) as { items: { name: string; here: boolean }[] };
    expect(dry.items.map((i) => i.name.split('/').slice(1).join('/')).sort()).toEqual([...files].sort());
    expect(existsSync(join(dirB, `${SID}.jsonl`))).toBe(true);
    // On a terminal roam asks first; an answer other than y removes nothing.
    if (spawnSync('script', ['--version']).status === 0) {
      const quote = (x: string) => `'${x.replace(/'/g, `'\\''`)}'`;
      const tty = spawnSync('script', ['-qfec', [process.execPath, ROAM, 'rm', SID].map(quote).join(' '), '/dev/null'], { env: b.env, input: 'n\n', encoding: 'utf8', timeout: 60_000 });
      expect(tty.stdout).toContain(`Delete session ${SID} on every device? [y/N]`);
      expect(tty.stdout).toContain('ROAM_DECLINED: nothing removed');
      expect(tty.status).toBe(1);
      expect(existsSync(join(dirB, `${SID}.jsonl`))).toBe(true);
    }
    const res = JSON.parse(ok(b.roam('rm', SID, '--json'))) as { session: string; folder: string; items: { name: string; path: string; here: boolean; removed: boolean }[] };
    expect(res).toMatchObject({ session: SID, folder: 'claude' });
    expect(res.items.map((i) => [i.path, i.here, i.removed]).sort()).toEqual(files.map((f) => [join(dirB, f), true, true]).sort());
    for (const f of files) expect(existsSync(join(dirB, f)), f).toBe(false);
    for (const [d, dir] of [[a, dirA], [c, dirC]] as const) {
      // The files go, and the directories they leave empty with them.
      await until(() => files.every((f) => !existsSync(join(dir, f))) && !existsSync(join(dir, SID)), { timeoutMs: 30_000, what: `the session to go on ${d.name}` });
    }
    for (const d of [a, b, c]) {
      const mine = trash(d).filter((e) => e.session === SID);
      expect(mine.map((e) => e.name.split('/').slice(1).join('/')).sort(), d.name).toEqual([...files].sort());
      expect(mine.every((e) => e.folder === 'claude')).toBe(true);
    }
    // The other sessions are untouched everywhere.
    for (const dir of [dirB, dirC]) expect(existsSync(join(dir, `${OLD}.jsonl`))).toBe(true);
    expect(existsSync(join(dirA, `${BUSY}.jsonl`))).toBe(true);

    // 4. roam restore (the list first): the session is back on B, and reaches A and C again.
    const list = ok(b.roam('restore'));
    expect(list).toContain(`${SID}.jsonl`);
    const restored = JSON.parse(ok(b.roam('restore', SID, '--json'))) as { restored: TrashView[]; skipped: TrashView[] };
    expect(restored.restored.map((e) => e.path).sort()).toEqual(files.map((f) => join(dirB, f)).sort());
    expect(restored.skipped).toEqual([]);
    expect(trash(b).filter((e) => e.session === SID)).toEqual([]);
    for (const [d, dir] of [[a, dirA], [b, dirB], [c, dirC]] as const) {
      await until(() => files.every((f) => existsSync(join(dir, f)) && readFileSync(join(dir, f)).equals(original[f]!)), { timeoutMs: 30_000, what: `the restored session on ${d.name}` });
    }
    // Restoring again is refused: the files exist (A still holds its own copy in its trash).
    const again = a.roam('restore', trash(a).find((e) => e.name.endsWith(`${SID}.jsonl`))!.id);
    expect(again.status).toBe(1);
    expect(again.stderr).toMatch(/^ROAM_STORE_CONFLICT: .*exists/);

    // 5. A restart of A neither resurrects OLD there nor deletes anything again.
    await a.kill('SIGTERM');
    await a.start(['--peer', b.addresses[0]!, '--peer', c.addresses[0]!]);
    ok(a.roam('sync', '--wait', '--timeout', '30'));
    ok(b.roam('sync', '--wait', '--timeout', '30'));
    expect(existsSync(join(dirA, `${OLD}.jsonl`))).toBe(false);
    expect(existsSync(join(dirB, `${OLD}.jsonl`))).toBe(true);
    for (const dir of [dirA, dirB, dirC]) for (const f of files) expect(readFileSync(join(dir, f)).equals(original[f]!), `${dir} ${f}`).toBe(true);

    // 6. A session this device already cleaned up (OLD, still on B and C) is found by roamd among
    //    the peers' names, and roam rm deletes it there too.
    const gone = JSON.parse(ok(a.roam('rm', OLD, '--json'))) as { items: { name: string; here: boolean; removed: boolean }[] };
    expect(gone.items.map((i) => [i.name.split('/').slice(1).join('/'), i.here, i.removed])).toEqual([[`${OLD}.jsonl`, false, true]]);
    for (const [d, dir] of [[b, dirB], [c, dirC]] as const) {
      await until(() => !existsSync(join(dir, `${OLD}.jsonl`)), { timeoutMs: 30_000, what: `OLD to go on ${d.name}` });
      expect(trash(d).some((e) => e.session === OLD)).toBe(true);
    }
  }, 180_000);

  it('without roamd: a one-line ROAM_NOT_RUNNING error (listing the trash reads it from disk)', () => {
    const d = makeDaemon('delta');
    const list = d.roam('restore');
    expect(list.status, list.stderr).toBe(0);
    expect(list.stdout).toMatch(/^the trash is empty/);
    expect(list.stderr).toMatch(/^roam: roamd is not running/);
    for (const args of [['rm', SID, '--yes'], ['restore', SID]]) {
      const r = d.roam(...args);
      expect(r.status, args.join(' ')).toBe(1);
      expect(r.stderr).toMatch(/^ROAM_NOT_RUNNING: [^\n]*\n$/);
    }
    const usage = d.roam('rm');
    expect(usage.status).toBe(2);
    expect(usage.stderr).toMatch(/^ROAM_USAGE: /);
  });
});
