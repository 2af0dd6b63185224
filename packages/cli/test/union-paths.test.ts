/**
 * Paths in the union logs (machine/home-paths.ts) and the tools' line mappings
 * (tools/<tool>/history.ts): home-relative on the wire, placed at this device's project, left
 * home-relative where it has none; a line without a path is carried byte for byte.
 */
import { mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { homePaths } from '../src/machine/home-paths.js';
import { allUnionLogs, unionLogNamed } from '../src/tools/registry.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
function home(): string {
  const d = realpathSync(mkdtempSync(join(tmpdir(), 'roam-union-paths-')));
  dirs.push(d);
  return d;
}

describe('union log paths', () => {
  it('a path here travels home-relative; one outside the home as it is', () => {
    const h = home();
    const p = homePaths(h);
    expect(p.toWire(join(h, 'code', 'app'))).toBe('~/code/app');
    expect(p.toWire(`${join(h, 'code', 'app')}/`)).toBe('~/code/app');
    expect(p.toWire(h)).toBe('~');
    expect(p.toWire('/srv/work/app')).toBe('/srv/work/app');
    expect(p.toWire(`${h}x/app`)).toBe(`${h}x/app`);
    expect(p.toWire('relative/path')).toBe('relative/path');
  });

  it('through a symlinked HOME too (the tools record real paths)', () => {
    const h = home();
    const link = join(home(), 'link');
    symlinkSync(h, link);
    expect(homePaths(link).toWire(join(h, 'code', 'app'))).toBe('~/code/app');
  });

  it("lands at this device's project: a roam map entry, else the same home-relative directory, else stays home-relative", () => {
    const h = home();
    mkdirSync(join(h, 'code', 'app'), { recursive: true });
    const elsewhere = join(home(), 'mine');
    mkdirSync(elsewhere);
    expect(homePaths(h).toLocal('~/code/app')).toBe(join(h, 'code', 'app'));
    expect(homePaths(h).toLocal('~')).toBe(h);
    expect(homePaths(h).toLocal('~/not/here')).toBe('~/not/here');
    expect(homePaths(h).toLocal('/srv/work/app')).toBe('/srv/work/app');
    const mapped = homePaths(h, () => ({ '~not%2Fhere': elsewhere, '~code%2Fapp': elsewhere }));
    expect(mapped.toLocal('~/not/here')).toBe(elsewhere);
    expect(mapped.toLocal('~/code/app')).toBe(elsewhere);
  });

  it("Claude Code's lines: project mapped, the rest kept; Codex's lines carried as they are", () => {
    expect(allUnionLogs().map((u) => u.id)).toEqual(['claude-history', 'codex-history']);
    const claude = unionLogNamed('claude-history')!;
    expect(claude.file({ HOME: '/h' })).toBe('/h/.claude/history.jsonl');
    expect(claude.file({ HOME: '/h', CLAUDE_CONFIG_DIR: '/c' })).toBe('/c/history.jsonl');
    const line = JSON.stringify({ display: 'fix the tests', pastedContents: {}, timestamp: 1, project: '/h/code/app', sessionId: 's' });
    const wire = claude.mapLine(line, (p) => p.replace('/h/', '~/'));
    expect(JSON.parse(wire)).toEqual({ display: 'fix the tests', pastedContents: {}, timestamp: 1, project: '~/code/app', sessionId: 's' });
    expect(Object.keys(JSON.parse(wire) as object)).toEqual(['display', 'pastedContents', 'timestamp', 'project', 'sessionId']);
    // Nothing to map: the very same line (no re-serialising).
    const outside = '{"display":"x","project":"/srv/a" , "timestamp":1}';
    expect(claude.mapLine(outside, (p) => p)).toBe(outside);
    expect(claude.mapLine('not json', () => 'changed')).toBe('not json');
    expect(claude.mapLine('{"display":"no project"}', () => 'changed')).toBe('{"display":"no project"}');
    const codex = unionLogNamed('codex-history')!;
    expect(codex.file({ HOME: '/h', CODEX_HOME: '/x' })).toBe('/x/history.jsonl');
    const c = '{"session_id":"s","ts":1,"text":"/h/code/app"}';
    expect(codex.mapLine(c, () => 'changed')).toBe(c);
  });
});
