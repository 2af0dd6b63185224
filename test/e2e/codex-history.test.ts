/**
 * Codex's prompt history as a union log (docs/PROTOCOL.md §10, docs/CODEX.md "Prompt history"),
 * with the real interactive CLI on A and `history.max_bytes` set: every prompt typed on A reaches
 * B once, although A's Codex trims its file in place meanwhile; what A's trim dropped is not sent
 * again, and B's view keeps every line.
 */
import { appendFileSync, existsSync, mkdirSync, readFileSync, realpathSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { until } from '../../packages/core/test/support/poll.js';
import { startCodexPty, writeCodexConfig } from '../support/codex.js';
import { makeDaemon, stopAll } from '../support/daemons.js';
import { startMockOpenAI, type MockOpenAI } from '../support/mock-openai.js';

afterEach(stopAll);

let mock: MockOpenAI;
beforeAll(async () => {
  mock = await startMockOpenAI({ log: () => {} });
});
afterAll(async () => {
  await mock?.close();
});

const texts = (file: string): string[] => (existsSync(file) ? readFileSync(file, 'utf8') : '').split('\n').filter(Boolean).map((l) => (JSON.parse(l) as { text: string }).text);

describe('Codex history.jsonl between two devices', () => {
  it('prompts typed in the real CLI on A reach B once, across A trimming its file (history.max_bytes)', async () => {
    const a = makeDaemon('cxh-a');
    const b = makeDaemon('cxh-b');
    const proj = join(a.home, 'code', 'app');
    mkdirSync(proj, { recursive: true });
    const codexA = join(a.home, '.codex');
    writeCodexConfig(codexA, mock.baseUrl);
    appendFileSync(join(codexA, 'config.toml'), `\n[history]\nmax_bytes = 600\n\n[projects."${realpathSync(proj)}"]\ntrust_level = "trusted"\n`);
    mkdirSync(join(b.home, '.codex'), { recursive: true });
    writeFileSync(join(b.home, '.codex', 'history.jsonl'), `${JSON.stringify({ session_id: '0199a7c2-7f3e-7d40-8a52-1c2b3d4e5f60', ts: 1_765_000_000, text: 'typed on b' })}\n`);
    await a.start();
    await b.start(['--peer', a.addresses[0]!]);
    const histA = join(codexA, 'history.jsonl');
    const histB = join(b.home, '.codex', 'history.jsonl');
    await until(() => texts(histA).includes('typed on b'), { timeoutMs: 30_000, what: "B's prompt on A" });
    const ino = statSync(histA).ino;

    const typed = Array.from({ length: 6 }, (_, i) => `prompt ${i} ${'x'.repeat(40)} end${i}`);
    const pty = startCodexPty({ args: [], cwd: proj, home: a.home, timeoutMs: 90_000 });
    try {
      await pty.waitFor('for shortcuts', 30_000);
      for (const [i, t] of typed.entries()) {
        let mark = pty.screen().length;
        pty.write(t);
        await pty.waitFor(`end${i}`, 10_000, mark); // its last keys echoed: the whole prompt is in
        mark = pty.screen().length;
        pty.write('\r');
        await until(() => texts(histA).includes(t), { timeoutMs: 15_000, what: `Codex to record "${t}"`, detail: () => texts(histA) });
        await pty.waitFor('Worked for', 15_000, mark); // the turn is over: the composer is idle again
      }
    } finally {
      pty.kill();
      await pty.exited;
    }
    // Codex trimmed its file in place (same inode), keeping its newest lines within 80% of max_bytes.
    expect(statSync(histA).ino).toBe(ino);
    expect(statSync(histA).size).toBeLessThanOrEqual(480);
    expect(texts(histA).at(-1)).toBe(typed.at(-1));
    expect(texts(histA)).not.toContain('typed on b');
    // B holds every prompt once: A's own, the ones A's Codex trimmed away included.
    await until(() => typed.every((t) => texts(histB).includes(t)), { timeoutMs: 30_000, what: "A's prompts on B", detail: () => [texts(histB), texts(histA), a.output.split('\n').filter((l) => l.includes('history')).join('\n')] });
    expect(texts(histB)).toEqual(['typed on b', ...typed]);
    // What A's trim dropped is not delivered to A again.
    await until(() => texts(histA).at(-1) === typed.at(-1) && !texts(histA).includes('typed on b'), { timeoutMs: 5_000, what: 'A unchanged' });
    expect(new Set(texts(histA)).size).toBe(texts(histA).length);
  }, 150_000);
});
