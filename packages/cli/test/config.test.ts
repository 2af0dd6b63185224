/** roamd's configuration pieces: ignore rules, folders from the environment, paths, the service unit. */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { IgnoreRules, parseRules } from '@roam/core';
import { ignoreRulesFor } from '../src/daemon/ignore.js';
import { defaultFolders, folderList, groupKeyFromEnv } from '../src/machine/config.js';
import { roamPaths, socketPath } from '../src/machine/paths.js';
import { service } from '../src/commands/service.js';
import { servicePlan } from '../src/commands/helpers/service-plan.js';

const dirs: string[] = [];
const tmp = () => {
  const d = mkdtempSync(join(tmpdir(), 'roam-cfg-'));
  dirs.push(d);
  return d;
};
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('ignore rules', () => {
  const rules = (...lines: string[]) => new IgnoreRules(parseRules(lines));

  it('skips session-roam template paths by default but keeps subagents/ and tool results', () => {
    const root = tmp();
    const ig = ignoreRulesFor(root);
    for (const name of ['sessions-index.json', 'p/node_modules/x.js', 'p/.DS_Store', 'wt-worktrees/a.jsonl', 'p/x.swp', '.stfolder', 'p/.syncthing.s.jsonl.tmp']) {
      expect(ig.ignores(name), name).toBe(true);
    }
    for (const name of ['-home-a/s.jsonl', '-home-a/s/subagents/agent-1.jsonl', '-home-a/s/tool-results/toolu_1.txt', '-home-a/s/subagents/agent-1.meta.json']) {
      expect(ig.ignores(name), name).toBe(false);
    }
  });

  it('reads .roamignore in .stignore syntax: first match wins, ! re-includes, / anchors, ** and (?i)', () => {
    const root = tmp();
    writeFileSync(join(root, '.roamignore'), ['// scratch projects stay local', '!/-home-a-scratch/keep.jsonl', '/-home-a-scratch', '**/tmp-*.jsonl', '(?i)*.LOG', 'a/b'].join('\n'));
    const ig = ignoreRulesFor(root);
    expect(ig.ignores('-home-a-scratch/s.jsonl')).toBe(true);
    expect(ig.ignores('-home-a-scratch/keep.jsonl')).toBe(false);
    expect(ig.ignores('x/-home-a-scratch/s.jsonl')).toBe(false); // anchored
    expect(ig.ignores('p/q/tmp-1.jsonl')).toBe(true);
    expect(ig.ignores('tmp-1.jsonl')).toBe(true);
    expect(ig.ignores('p/debug.log')).toBe(true);
    expect(ig.ignores('a/b/c.jsonl')).toBe(true); // a directory pattern covers what is under it
    expect(ig.ignores('x/a/b')).toBe(false);
    expect(ig.ignores('-home-a/s.jsonl')).toBe(false);
  });

  it('supports ? and character classes, and ignores comments and blank lines', () => {
    const ig = rules('', '// c', 'v?.jsonl', 'x[0-9].txt', 'y[!a].txt');
    expect(ig.ignores('v1.jsonl')).toBe(true);
    expect(ig.ignores('v12.jsonl')).toBe(false);
    expect(ig.ignores('x7.txt')).toBe(true);
    expect(ig.ignores('xa.txt')).toBe(false);
    expect(ig.ignores('yb.txt')).toBe(true);
    expect(ig.ignores('ya.txt')).toBe(false);
  });
});

describe('folders and paths', () => {
  it("finds the tools' session roots that exist, honouring each tool's variable", () => {
    const home = tmp();
    const claude = tmp();
    mkdirSync(join(claude, 'projects'));
    mkdirSync(join(home, '.codex', 'sessions'), { recursive: true });
    const env = { HOME: home, CLAUDE_CONFIG_DIR: claude };
    // The prompt histories (union logs) come with the tools' homes; their logs live in roam's state.
    const union = join(home, '.local', 'state', 'roam', 'union');
    expect(defaultFolders(env).map((f) => [f.id, f.path])).toEqual([
      ['claude', join(claude, 'projects')],
      ['codex', join(home, '.codex', 'sessions')],
      ['claude-history', join(union, 'claude-history')],
      ['codex-history', join(union, 'codex-history')],
    ]);
    const list = folderList({ exclude: ['codex', 'codex-history'], folders: [{ id: 'notes', path: '~/notes', conflict: 'syncthing' }] }, env);
    expect(list.map((f) => [f.id, f.path, f.conflict])).toEqual([
      ['claude', join(claude, 'projects'), 'fork'],
      ['claude-history', join(union, 'claude-history'), 'fork'],
      ['notes', join(home, 'notes'), 'syncthing'],
    ]);
  });

  it('keeps everything in ROAM_HOME, and moves a socket path that is too long to the runtime dir', () => {
    const p = roamPaths({ HOME: '/h', ROAM_HOME: '/r' });
    expect(p).toMatchObject({ config: '/r', state: '/r/state', identity: '/r/identity.key', socket: '/r/roamd.sock' });
    expect(roamPaths({ HOME: '/h' })).toMatchObject({ config: '/h/.config/roam', state: '/h/.local/state/roam' });
    const long = `/${'d'.repeat(120)}`;
    const s = socketPath(long, { XDG_RUNTIME_DIR: '/run/user/1' });
    // A private directory of its own in the runtime dir (roamd makes it 0700 and checks it), named for the config dir.
    expect(s).toMatch(/^\/run\/user\/1\/roam-[0-9a-f]{16}\/roamd\.sock$/);
    expect(socketPath(long, { XDG_RUNTIME_DIR: '/run/user/1' })).toBe(s);
  });

  it('checks ROAM_GROUP_KEY', () => {
    expect(groupKeyFromEnv({ ROAM_GROUP_KEY: 'ab'.repeat(32) })?.length).toBe(32);
    expect(groupKeyFromEnv({})).toBeUndefined();
    expect(() => groupKeyFromEnv({ ROAM_GROUP_KEY: 'xyz' })).toThrow(/ROAM_GROUP_KEY must be 64 hexadecimal/);
  });
});

describe('roam service', () => {
  it('--dry-run prints the systemd user unit that runs this roamd with ROAM_HOME kept, and writes nothing', async () => {
    const home = tmp();
    const saved = { ...process.env };
    try {
      process.env.HOME = home;
      process.env.XDG_CONFIG_HOME = join(home, '.config');
      process.env.ROAM_HOME = join(home, 'roam-home');
      const plan = servicePlan(process.env, 'linux');
      expect(plan.file).toBe(join(home, '.config', 'systemd', 'user', 'roamd.service'));
      expect(plan.content).toMatch(new RegExp(`^ExecStart=${process.execPath.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} (--\\S+ )*\\S+/roamd\\.js$`, 'm'));
      expect(plan.content).toContain(`Environment=ROAM_HOME=${join(home, 'roam-home')}`);
      const out: string[] = [];
      await service('install', { dryRun: true }, { out: (l) => out.push(l), err: () => {} });
      // A dry run writes nothing, not even the directory of the unit.
      expect(existsSync(plan.file)).toBe(false);
      expect(existsSync(join(home, '.config'))).toBe(false);
      expect(out[0]).toBe(`would write ${plan.file}:`);
      expect(out.join('\n')).toContain(plan.content.trimEnd());
      expect(out.at(-1)).toBe('would run: systemctl --user daemon-reload; systemctl --user enable --now roamd.service');
      const json: string[] = [];
      await service('install', { dryRun: true, json: true }, { out: (l) => json.push(l), err: () => {} });
      expect(JSON.parse(json[0]!)).toMatchObject({ action: 'install', dryRun: true, file: plan.file, exists: false, content: plan.content, ran: false });
      // Uninstall's dry run leaves an installed unit where it is.
      mkdirSync(dirname(plan.file), { recursive: true });
      writeFileSync(plan.file, plan.content);
      const un: string[] = [];
      await service('uninstall', { dryRun: true }, { out: (l) => un.push(l), err: () => {} });
      expect(existsSync(plan.file)).toBe(true);
      expect(un[0]).toBe(`would run: systemctl --user disable --now roamd.service; systemctl --user daemon-reload; then remove ${plan.file}`);
      const mac = servicePlan(process.env, 'darwin');
      expect(mac.file).toBe(join(home, 'Library', 'LaunchAgents', 'dev.roam.roamd.plist'));
      expect(mac.content).toContain('<key>RunAtLoad</key><true/>');
      expect(() => servicePlan(process.env, 'win32')).toThrow(/supports Linux/);
    } finally {
      process.env = saved;
    }
  });
});
