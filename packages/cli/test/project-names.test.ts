import { mkdirSync, mkdtempSync, rmSync, writeFileSync, realpathSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { keyMatches as claudeKeyMatches, projectKey as claudeProjectKey } from '../src/tools/claude/index.js';
import { gitIdentity, normaliseRemote, remoteFromConfig } from '../src/machine/git.js';
import { ProjectNames, decodePath, encodePath, pathOfWire, wireNameOf } from '../src/machine/project-names.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
function tmp(): string {
  const d = realpathSync(mkdtempSync(join(tmpdir(), 'roam-pn-')));
  dirs.push(d);
  return d;
}

function session(root: string, key: string, id: string, cwd: string): void {
  mkdirSync(join(root, key), { recursive: true });
  const lines = [
    { type: 'file-history-snapshot', messageId: 'x' },
    { type: 'user', uuid: 'u1', parentUuid: null, sessionId: id, cwd, message: { role: 'user', content: 'hi' } },
  ];
  writeFileSync(join(root, key, `${id}.jsonl`), lines.map((l) => JSON.stringify(l)).join('\n') + '\n');
}

describe('wire names of projects', () => {
  it('encodes home-relative and absolute paths as one reversible component', () => {
    const home = '/home/alice';
    const cases: Array<[string, string]> = [
      ['/home/alice', '~'],
      ['/home/alice/code/app', '~code%2Fapp'],
      ['/home/alice/my_app.v2/sub dir', '~my_app.v2%2Fsub dir'],
      ['/home/alice/100%/x', '~100%25%2Fx'],
      ['/home/alice/café/naïve', '~café%2Fnaïve'],
      ['/work/app', '=%2Fwork%2Fapp'],
      ['/home/alicex/app', '=%2Fhome%2Falicex%2Fapp'],
    ];
    for (const [path, wire] of cases) {
      expect(wireNameOf(path, home)).toBe(wire);
      expect(pathOfWire(wire, home)).toBe(path);
      expect(pathOfWire(wire, '/Users/alice')).toBe(path.startsWith('/home/alice/') || path === '/home/alice' ? path.replace('/home/alice', '/Users/alice') : path);
    }
    expect(decodePath(encodePath('a/%2F/b'))).toBe('a/%2F/b');
    // Too long for one component: no canonical name (the key is sent as it is).
    expect(wireNameOf(`/home/alice/${'x'.repeat(300)}`, home)).toBeNull();
    expect(pathOfWire('-home-alice-code-app', home)).toBeNull();
  });
});

describe('git identity', () => {
  it('normalises the forms of one remote to the same name', () => {
    for (const u of ['git@github.com:Alice/app.git', 'https://github.com/Alice/app', 'ssh://git@GitHub.com/Alice/app.git', 'https://user:tok@github.com/Alice/app.git/']) {
      expect(normaliseRemote(u)).toBe('github.com/Alice/app');
    }
    expect(normaliseRemote('/srv/repos/app.git')).toBeNull();
    expect(remoteFromConfig('[core]\n\tbare = false\n[remote "upstream"]\n\turl = git@x.org:u/a.git\n[remote "origin"]\n\turl = https://github.com/me/a\n')).toBe('https://github.com/me/a');
  });

  it('finds the repository root and the path inside it', () => {
    const d = tmp();
    mkdirSync(join(d, 'repo', '.git'), { recursive: true });
    mkdirSync(join(d, 'repo', 'pkg', 'web'), { recursive: true });
    writeFileSync(join(d, 'repo', '.git', 'config'), '[remote "origin"]\n\turl = git@github.com:me/repo.git\n');
    expect(gitIdentity(join(d, 'repo', 'pkg', 'web'))).toEqual({ remote: 'github.com/me/repo', root: join(d, 'repo'), sub: 'pkg/web' });
    expect(gitIdentity(d)).toBeNull();
  });
});

describe('ProjectNames', () => {
  it('names a project by its home-relative path on one device and finds its own key for it on another', () => {
    const t = tmp();
    const [homeA, homeB] = [join(t, 'a'), join(t, 'b', 'users', 'alice')];
    mkdirSync(join(homeA, 'code', 'my_app'), { recursive: true });
    mkdirSync(join(homeB, 'code', 'my_app'), { recursive: true });
    const rootA = join(homeA, '.claude', 'projects');
    const rootB = join(homeB, '.claude', 'projects');
    const keyA = claudeProjectKey(join(homeA, 'code', 'my_app'));
    session(rootA, keyA, 's1', join(homeA, 'code', 'my_app'));
    const a = new ProjectNames({ root: rootA, home: homeA, file: join(t, 'a.json') });
    const b = new ProjectNames({ root: rootB, home: homeB, file: join(t, 'b.json') });
    const wire = a.toWire(`${keyA}/s1.jsonl`);
    expect(wire).toBe('~code%2Fmy_app/s1.jsonl');
    expect(a.entryOfKey(keyA)?.how).toBe('cwd');
    const local = b.toLocal(wire);
    expect(local).toBe(`${claudeProjectKey(join(homeB, 'code', 'my_app'))}/s1.jsonl`);
    // B's own new files in that key go out under the same wire name.
    expect(b.toWire(local.replace('s1', 's2'))).toBe('~code%2Fmy_app/s2.jsonl');
    // Remembered across restarts, even once the directory is gone.
    rmSync(join(homeB, 'code', 'my_app'), { recursive: true });
    expect(new ProjectNames({ root: rootB, home: homeB, file: join(t, 'b.json') }).toLocal(wire)).toBe(local);
  });

  it('ignores a cwd received from another device and finds the directory by its key instead', () => {
    const t = tmp();
    const home = join(t, 'h');
    mkdirSync(join(home, 'work', 'app'), { recursive: true });
    const root = join(home, '.claude', 'projects');
    const key = claudeProjectKey(join(home, 'work', 'app'));
    // The log came from a device where the project was elsewhere.
    session(root, key, 's1', '/Users/someone/elsewhere/app');
    const n = new ProjectNames({ root, home, file: join(t, 'n.json') });
    expect(n.toWire(`${key}/s1.jsonl`)).toBe('~work%2Fapp/s1.jsonl');
    expect(n.entryOfKey(key)?.how).toBe('dir');
  });

  it('sends a key it cannot resolve as it is, and escapes keys that look like wire names', () => {
    const t = tmp();
    const root = join(t, 'projects');
    mkdirSync(join(root, '-no-such-place-at-all'), { recursive: true });
    const n = new ProjectNames({ root, home: join(t, 'h'), file: join(t, 'n.json') });
    expect(n.toWire('-no-such-place-at-all/x.jsonl')).toBe('-no-such-place-at-all/x.jsonl');
    expect(n.toWire('~odd/x.jsonl')).toBe('%~odd/x.jsonl');
    expect(n.toLocal('%~odd/y.jsonl')).toBe('~odd/y.jsonl');
    expect(n.toLocal('sample-project/z.jsonl')).toBe('sample-project/z.jsonl');
    expect(n.toWire('top-level-file.json')).toBe('top-level-file.json');
  });

  it('places a project whose home-relative path does not exist here by the git remote its sender published', () => {
    const t = tmp();
    const home = join(t, 'h');
    const clone = join(home, 'src', 'app');
    mkdirSync(join(clone, '.git'), { recursive: true });
    writeFileSync(join(clone, '.git', 'config'), '[remote "origin"]\n\turl = https://github.com/me/app.git\n');
    const root = join(home, '.claude', 'projects');
    // This device already has its own project there (so it is a candidate).
    session(root, claudeProjectKey(clone), 'own', clone);
    const n = new ProjectNames({ root, home, file: join(t, 'n.json'), remoteOf: (w) => (w === '~code%2Fapp' ? { remote: 'github.com/me/app', sub: '', root: '' } : null) });
    expect(n.toWire(`${claudeProjectKey(clone)}/own.jsonl`)).toBe('~src%2Fapp/own.jsonl');
    expect(n.toLocal('~code%2Fapp/theirs.jsonl')).toBe(`${claudeProjectKey(clone)}/theirs.jsonl`);
    // Both projects share the key; each item keeps its own wire name.
    expect(n.toWire(`${claudeProjectKey(clone)}/theirs.jsonl`)).toBe('~code%2Fapp/theirs.jsonl');
    expect(n.toWire(`${claudeProjectKey(clone)}/own.jsonl`)).toBe('~src%2Fapp/own.jsonl');
    // Unknown remote and no directory: kept under the home-relative path's key, flagged missing.
    expect(n.toLocal('~other%2Fthing/x.jsonl')).toBe(`${claudeProjectKey(join(home, 'other', 'thing'))}/x.jsonl`);
    expect(n.isMissing('~other%2Fthing')).toBe(true);
  });

  it('matches long keys on their first 200 characters', () => {
    const long = `/home/a/${'d'.repeat(250)}`;
    const key = claudeProjectKey(long);
    expect(key.length).toBeGreaterThan(200);
    expect(claudeKeyMatches(`${key.slice(0, 200)}-otherhash`, long)).toBe(true);
    expect(claudeKeyMatches(key.slice(0, 200), long)).toBe(false);
  });
});
