/**
 * Modes of what peers send, with real daemons: a file keeps its owner bits and loses group and
 * other (0644 → 0600, 0755 → 0700), and the directories made for it are 0700, whatever the
 * sender's were and whatever the umask.
 */
import { chmodSync, mkdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { until } from '../../packages/core/test/support/poll.js';
import { makeDaemon, stopAll } from '../support/daemons.js';

afterEach(stopAll);

const SID = '5d2c7a10-3b4e-4f6a-9c1d-2e8f0a7b6c54';
const modeOf = (p: string) => statSync(p).mode & 0o777;

describe('file modes from peers', () => {
  it('0644 → 0600, 0755 → 0700, directories 0700', async () => {
    const a = makeDaemon('modes-a');
    const b = makeDaemon('modes-b');
    const key = '-home-alice-code-app';
    const dir = join(a.projects, key);
    mkdirSync(join(dir, SID, 'tool-results'), { recursive: true, mode: 0o755 });
    chmodSync(dir, 0o755);
    chmodSync(join(dir, SID), 0o755);
    chmodSync(join(dir, SID, 'tool-results'), 0o775);
    const session = join(dir, `${SID}.jsonl`);
    writeFileSync(session, `${JSON.stringify({ type: 'user', sessionId: SID, uuid: 'u-1', message: { content: 'hello' } })}\n`);
    chmodSync(session, 0o644);
    const script = join(dir, SID, 'tool-results', 'run.txt');
    writeFileSync(script, 'echo hi\n');
    chmodSync(script, 0o755);
    const open = join(dir, SID, 'tool-results', 'open.txt');
    writeFileSync(open, 'everyone\n');
    chmodSync(open, 0o777);
    await a.start();
    await b.start(['--peer', a.addresses[0]!]);

    const there = (p: string) => join(b.projects, key, p);
    await until(() => {
      try {
        return statSync(there(`${SID}.jsonl`)).size > 0 && statSync(there(`${SID}/tool-results/run.txt`)).size > 0 && statSync(there(`${SID}/tool-results/open.txt`)).size > 0;
      } catch {
        return false;
      }
    }, { timeoutMs: 30_000, everyMs: 100, what: 'beta to receive the files' });
    expect({
      session: modeOf(there(`${SID}.jsonl`)).toString(8),
      script: modeOf(there(`${SID}/tool-results/run.txt`)).toString(8),
      open: modeOf(there(`${SID}/tool-results/open.txt`)).toString(8),
      projectDir: modeOf(there('')).toString(8),
      sessionDir: modeOf(there(SID)).toString(8),
      resultsDir: modeOf(there(`${SID}/tool-results`)).toString(8),
    }).toEqual({ session: '600', script: '700', open: '700', projectDir: '700', sessionDir: '700', resultsDir: '700' });
    // The sender's own files are left as they are.
    expect(modeOf(session)).toBe(0o644);
    expect(modeOf(script)).toBe(0o755);
  }, 60_000);
});
