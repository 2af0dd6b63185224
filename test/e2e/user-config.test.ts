/**
 * User-level configuration (machine/user-config.ts, `roam userconfig`): three real roamd, A and B
 * opted into Claude Code's CLAUDE.md, commands and settings, C into nothing.
 *
 * - Credentials are refused even when asked for: `roam userconfig enable claude .credentials.json`
 *   and a config.json naming them fail with ROAM_CREDENTIALS; a credentials file inside an opted-in
 *   directory, and a file whose text holds a token, are not published.
 * - What A publishes reaches B's staging folder and takes effect only when B applies it: `roam
 *   userconfig` on B shows it first (commands marked as code that runs, the settings' hooks
 *   flagged); `apply` keeps B's hooks, `apply --hooks` takes A's.
 * - C, which opted into nothing, skips the folder as opted out (`roam sync --wait` still returns)
 *   and receives none of it.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { until } from '../../packages/core/test/support/poll.js';
import { makeDaemon, stopAll, type DaemonHandle } from '../support/daemons.js';

afterAll(stopAll);

function roamOk(d: DaemonHandle, ...args: string[]): string {
  const r = d.roam(...args);
  expect(r.status, r.stderr).toBe(0);
  return r.stdout;
}

describe('user-level configuration travels only to a device that opted in, and takes effect when applied', () => {
  it('A publishes, B shows then applies (hooks only with --hooks), C gets nothing, credentials are refused', async () => {
    const a = makeDaemon('alpha');
    const b = makeDaemon('beta');
    const c = makeDaemon('gamma');
    const claudeA = join(a.home, '.claude');
    mkdirSync(join(claudeA, 'commands'), { recursive: true });
    writeFileSync(join(claudeA, 'CLAUDE.md'), 'Always answer like a walrus.\n');
    writeFileSync(join(claudeA, 'commands', 'tusk.md'), 'Run the tusk check.\n');
    writeFileSync(join(claudeA, 'commands', 'api-token.txt'), 'secret\n');
    writeFileSync(join(claudeA, 'commands', 'deploy.md'), `Push with GITHUB_TOKEN=ghp_${'A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8'} please.\n`);
    writeFileSync(join(claudeA, 'settings.json'), JSON.stringify({ model: 'opus', hooks: { Stop: [{ hooks: [{ type: 'command', command: 'echo from A' }] }] } }));
    writeFileSync(join(claudeA, '.credentials.json'), '{"token":"x"}');
    const claudeB = join(b.home, '.claude');
    writeFileSync(join(claudeB, 'settings.json'), JSON.stringify({ model: 'sonnet', hooks: { Stop: [{ hooks: [{ type: 'command', command: 'echo from B' }] }] } }));

    // Credentials are refused, asked for by the verb or in config.json.
    const asked = a.roam('userconfig', 'enable', 'claude', '.credentials.json');
    expect(asked.status).toBe(1);
    expect(asked.stderr).toMatch(/ROAM_CREDENTIALS.*\.credentials\.json.*never travel/);
    mkdirSync(a.roamHome, { recursive: true });
    writeFileSync(join(a.roamHome, 'config.json'), JSON.stringify({ userConfig: { claude: ['.credentials.json'] } }));
    const inConfig = a.roam('userconfig');
    expect(inConfig.status).toBe(1);
    expect(inConfig.stderr).toContain('ROAM_CREDENTIALS');
    writeFileSync(join(a.roamHome, 'config.json'), '{}');

    for (const d of [a, b]) roamOk(d, 'userconfig', 'enable', 'claude', 'CLAUDE.md', 'commands', 'settings');
    await a.start();
    await b.start(['--peer', a.addresses[0]!]);
    await c.start(['--peer', a.addresses[0]!]);
    const pub = JSON.parse(roamOk(a, 'userconfig', 'publish', '--json')) as { published: string[]; refused: string[] };
    expect(pub.published.length).toBe(3);
    expect(pub.refused.sort()).toEqual([`${join(claudeA, 'commands', 'api-token.txt')}: a credentials file`, expect.stringMatching(new RegExp(`^${join(claudeA, 'commands', 'deploy.md')}: holds what looks like a credential \\(.*github`))].sort());

    // B: staged and shown, not in effect.
    type Status = { pending: Array<{ target: string; change: string; code: boolean; hooks: boolean }> };
    let st: Status = { pending: [] };
    await until(() => (st = JSON.parse(roamOk(b, 'userconfig', '--json')) as Status).pending.length === 3, { timeoutMs: 30_000, what: "A's configuration staged on B", detail: () => st });
    expect(st.pending).toEqual(expect.arrayContaining([
      expect.objectContaining({ target: join(claudeB, 'CLAUDE.md'), change: 'new', code: false, hooks: false }),
      expect.objectContaining({ target: join(claudeB, 'commands', 'tusk.md'), change: 'new', code: true }),
      expect.objectContaining({ target: join(claudeB, 'settings.json'), change: 'changed', hooks: true }),
    ]));
    expect(existsSync(join(claudeB, 'CLAUDE.md'))).toBe(false);
    expect(roamOk(b, 'userconfig')).toMatch(/commands\/tusk\.md\s+\[code that runs\]/);

    // Applied on B's acknowledgement; hooks only with --hooks.
    const applied = JSON.parse(roamOk(b, 'userconfig', 'apply', '--json')) as { applied: string[]; heldHooks: string[] };
    expect(applied.heldHooks).toEqual([join(claudeB, 'settings.json')]);
    expect(readFileSync(join(claudeB, 'CLAUDE.md'), 'utf8')).toBe('Always answer like a walrus.\n');
    expect(readFileSync(join(claudeB, 'commands', 'tusk.md'), 'utf8')).toBe('Run the tusk check.\n');
    expect(JSON.parse(readFileSync(join(claudeB, 'settings.json'), 'utf8'))).toEqual({ model: 'opus', hooks: { Stop: [{ hooks: [{ type: 'command', command: 'echo from B' }] }] } });
    expect(existsSync(join(claudeB, 'commands', 'api-token.txt'))).toBe(false);
    expect(existsSync(join(claudeB, 'commands', 'deploy.md'))).toBe(false);
    expect(existsSync(join(claudeB, '.credentials.json'))).toBe(false);
    roamOk(b, 'userconfig', 'apply', '--hooks');
    expect(JSON.parse(readFileSync(join(claudeB, 'settings.json'), 'utf8')).hooks.Stop[0].hooks[0].command).toBe('echo from A');

    // C opted into nothing: it skips the folder as opted out (so it is still in sync) and holds none of it.
    let cs: { skipped?: Array<{ folder: string; reason: string }> } = {};
    await until(() => (cs = JSON.parse(roamOk(c, 'status', '--json')) as typeof cs).skipped?.some((s) => s.folder === 'userconfig' && s.reason === 'opted out') === true, { timeoutMs: 30_000, what: 'userconfig skipped by C', detail: () => cs });
    roamOk(c, 'sync', '--wait', '--timeout', '30');
    expect(existsSync(join(c.roamHome, 'state', 'userconfig'))).toBe(false);
    expect(existsSync(join(c.home, '.claude', 'CLAUDE.md'))).toBe(false);
  }, 150_000);
});
