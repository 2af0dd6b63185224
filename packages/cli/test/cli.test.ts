/** The CLI entry as a user meets it: the built bins in child processes. */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const bin = (name: string) => fileURLToPath(new URL(`../dist/${name}.js`, import.meta.url));
const roam = (...args: string[]) => spawnSync(process.execPath, [bin('roam'), ...args], { encoding: 'utf8' });

describe('roam CLI', () => {
  it('prints its version', () => {
    const r = roam('--version');
    expect(r.status).toBe(0);
    expect(r.stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
  });

  it('answers a usage error with exit 2 and one line that starts with its code', () => {
    const r = roam('--no-such-flag');
    expect(r.status).toBe(2);
    expect(r.stdout).toBe('');
    const lines = r.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^ROAM_USAGE: unknown option '--no-such-flag'/);
  });
});

describe('roam completion, help and man', () => {
  it('prints a bash script that bash accepts and that asks roam for the words; zsh and fish too', () => {
    const bash = roam('completion', 'bash');
    expect(bash.status, bash.stderr).toBe(0);
    expect(spawnSync('bash', ['-n'], { input: bash.stdout, encoding: 'utf8' }).status).toBe(0);
    expect(bash.stdout).toContain('complete -F __roam_complete roam');
    expect(bash.stdout).toMatch(/roam complete -- /);
    expect(roam('completion', 'zsh').stdout).toMatch(/^#compdef roam/);
    expect(roam('completion', 'fish').stdout).toContain('complete -c roam');
    const bad = roam('completion', 'tcsh');
    expect(bad.status).toBe(2);
    expect(bad.stderr).toBe('ROAM_USAGE: roam completion tcsh: one of bash, zsh, fish\n');
  });

  it('completes verbs, sub-commands and options from the command table', () => {
    const words = (...args: string[]) => roam('complete', '--', ...args).stdout.split('\n').filter((l) => l && !l.startsWith(':')).map((l) => l.split('\t')[0]);
    expect(words('re')).toEqual(['reload', 'resume', 'restore']);
    expect(words('service', '')).toEqual(expect.arrayContaining(['install', 'uninstall']));
    expect(words('export', '--')).toEqual(expect.arrayContaining(['--format', '--out', '--json', '--tool']));
    expect(words('logs', '--')).toEqual(expect.arrayContaining(['--follow', '--lines', '--json']));
    expect(words('list', '--tool', '')).toEqual(['claude', 'codex', 'gemini', 'copilot', 'opencode', 'kilo', 'crush', 'cursor']);
    expect(words('export', 'x', '--format', '')).toEqual(['md', 'json']);
  });

  it('roam help <verb> prints that verb\'s usage; roam man prints a man page of every verb', () => {
    const help = roam('help', 'rm');
    expect(help.status).toBe(0);
    expect(help.stdout).toMatch(/^Usage: roam rm \[options\] <session>\n/);
    expect(help.stdout).toContain('-y, --yes');
    const man = roam('man');
    expect(man.status, man.stderr).toBe(0);
    expect(man.stdout).toMatch(/^\.TH ROAM 1 /);
    for (const verb of ['status', 'sync', 'pair', 'resume', 'rm', 'logs', 'export', 'completion', 'service install']) expect(man.stdout).toContain(`.B roam ${verb}`);
    expect(man.stdout).toContain('.B roam rm <session>');
    expect(man.stdout).toContain('.B \\-y, \\-\\-yes');
    if (spawnSync('man', ['--version']).status === 0) {
      const rendered = spawnSync('man', ['-l', '-'], { input: man.stdout, encoding: 'utf8', env: { ...process.env, MANWIDTH: '100', MAN_KEEP_FORMATTING: '' } });
      expect(rendered.stdout).toMatch(/roam restore \[entry\]/);
    }
  });
});
