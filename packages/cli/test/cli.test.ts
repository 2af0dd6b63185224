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
