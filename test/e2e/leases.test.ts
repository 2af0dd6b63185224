/**
 * Leases come from writing, not from finding: a daemon that indexes a folder full of old sessions
 * (its first start, or what changed while it was down) leases none of them; a line appended now
 * leases that session. Every tool's session logs lease it (Codex, Gemini CLI, Copilot CLI by their
 * own layouts), and the other device sees the lease.
 */
import { appendFileSync, mkdirSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { until } from '../../packages/core/test/support/poll.js';
import { call } from '../../packages/cli/src/control/client.js';
import { roamPaths } from '../../packages/cli/src/machine/paths.js';
import { TICK_MS, WRITE_LEASE_MS } from '../../packages/cli/src/machine/leases.js';
import { makeDaemon, stopAll, type DaemonHandle } from '../support/daemons.js';

afterEach(stopAll);

const OLD = '0b7c1a52-0000-4000-8000-000000000001';
const NEW = '0b7c1a52-0000-4000-8000-000000000002';
const line = (s: string, i: number) => `${JSON.stringify({ type: 'user', sessionId: s, uuid: `u-${i}`, message: { content: `line ${i}` } })}\n`;

describe('leases', () => {
  it('are not taken for the sessions a first index finds, only for those written now', async () => {
    const a = makeDaemon('alpha');
    const dir = join(a.projects, '-home-alice-code-app');
    mkdirSync(dir, { recursive: true });
    const old = join(dir, `${OLD}.jsonl`);
    writeFileSync(old, line(OLD, 0));
    const day = Date.now() / 1000 - 86_400;
    utimesSync(old, day, day);
    await a.start();
    const socket = roamPaths(a.env).socket;
    const sessions = async () => (await call(socket, 'leases', {})).leases.filter((l) => l.self).map((l) => l.session).sort();

    writeFileSync(join(dir, `${NEW}.jsonl`), line(NEW, 0));
    await until(async () => (await sessions()).includes(NEW), { timeoutMs: 10_000, what: 'the new session to be leased' });
    expect(await sessions()).toEqual([NEW]);

    appendFileSync(old, line(OLD, 1));
    await until(async () => (await sessions()).includes(OLD), { timeoutMs: 10_000, what: 'the old session, written now, to be leased' });
    expect(await sessions()).toEqual([OLD, NEW].sort());
  });

  it('are taken for Codex, Gemini CLI and Copilot CLI sessions written now, and seen by the other device', async () => {
    const CODEX = '0b7c1a52-0000-4000-8000-00000000c0de';
    const GEMINI = '0b7c1a52-0000-4000-8000-0000000006e1';
    const COPILOT = '0b7c1a52-0000-4000-8000-00000000c0b1';
    // The tools' folders exist before roamd starts (it syncs the ones that exist).
    const folders = (d: DaemonHandle) => ({
      codex: join(d.home, '.codex', 'sessions'),
      gemini: join(d.home, '.gemini', 'tmp'),
      copilot: join(d.home, '.copilot', 'session-state'),
    });
    const a = makeDaemon('alpha');
    const b = makeDaemon('beta');
    for (const d of [a, b]) for (const dir of Object.values(folders(d))) mkdirSync(dir, { recursive: true });
    await a.start();
    await b.start(['--peer', a.addresses[0]!]);
    const fa = folders(a);
    const rollout = join(fa.codex, '2026', '11', '21', `rollout-2026-11-21T10-00-00-${CODEX}.jsonl`);
    mkdirSync(join(rollout, '..'), { recursive: true });
    writeFileSync(rollout, `${JSON.stringify({ timestamp: new Date().toISOString(), type: 'session_meta', payload: { id: CODEX, cwd: a.home } })}\n`);
    const chat = join(fa.gemini, 'app', 'chats', `session-2026-11-21T10-00-${GEMINI.slice(0, 8)}.jsonl`);
    mkdirSync(join(chat, '..'), { recursive: true });
    writeFileSync(chat, `${JSON.stringify({ sessionId: GEMINI, projectHash: 'x', startTime: new Date().toISOString() })}\n`);
    const events = join(fa.copilot, COPILOT, 'events.jsonl');
    mkdirSync(join(events, '..'), { recursive: true });
    writeFileSync(events, `${JSON.stringify({ type: 'session.start', id: 'e1', data: { sessionId: COPILOT } })}\n`);
    // Not session logs: a Copilot session's workspace file, a Claude Code sub-agent's log.
    writeFileSync(join(fa.copilot, COPILOT, 'workspace.yaml'), `id: ${COPILOT}\n`);
    const sub = join(a.projects, '-home-alice-code-app', OLD, 'subagents', 'agent-1.jsonl');
    mkdirSync(join(sub, '..'), { recursive: true });
    writeFileSync(sub, line(OLD, 0));

    // As a tool busy with a turn: a line every 2 s.
    let n = 1;
    const writing = setInterval(() => {
      appendFileSync(rollout, `${JSON.stringify({ timestamp: new Date().toISOString(), type: 'event_msg', payload: { n } })}\n`);
      appendFileSync(chat, `${JSON.stringify({ id: `m${n}`, type: 'user', content: `line ${n}` })}\n`);
      appendFileSync(events, `${JSON.stringify({ type: 'user.message', id: `e${++n}`, data: { content: 'x' } })}\n`);
    }, 2000);

    const leases = async (d: DaemonHandle) => (await call(roamPaths(d.env).socket, 'leases', {})).leases;
    const expected = [
      { tool: 'codex', session: CODEX },
      { tool: 'copilot', session: COPILOT },
      { tool: 'gemini', session: GEMINI },
    ];
    const mine = async () => (await leases(a)).filter((l) => l.self).map((l) => ({ tool: l.tool, session: l.session })).sort((x, y) => x.tool.localeCompare(y.tool));
    await until(async () => (await mine()).length >= 3, { timeoutMs: 15_000, what: 'three leases on A' });
    expect(await mine()).toEqual(expected);
    // B sees A holding them (what roam resume and roam rm on B refuse on).
    const onB = async () => (await leases(b)).filter((l) => !l.self && l.name === 'alpha').map((l) => ({ tool: l.tool, session: l.session })).sort((x, y) => x.tool.localeCompare(y.tool));
    try {
      await until(async () => (await onB()).length >= 3, { timeoutMs: 30_000, what: "A's leases on B" });
      expect(await onB()).toEqual(expected);
    } finally {
      clearInterval(writing);
    }
    // The tool stopped writing (the user walks to B): the leases end there without A's next heartbeat.
    const stopped = Date.now();
    await until(async () => (await onB()).length === 0, { timeoutMs: 30_000, what: "A's leases to end on B" });
    expect(Date.now() - stopped).toBeLessThan(WRITE_LEASE_MS + TICK_MS + 5_000);
  });
});
