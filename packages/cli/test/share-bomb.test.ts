/**
 * `roam import` of a gzip bomb: refused with ROAM_BUNDLE_TOO_LARGE, its memory bounded (the
 * child's peak RSS, measured by /usr/bin/time -v), and a file past the per-file cap refused too.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import { MAX_BUNDLE_BYTES, MAX_BUNDLE_FILE_BYTES } from '../src/share/bundle.js';

const ROAM = fileURLToPath(new URL('../dist/roam.js', import.meta.url));
const TIME = '/usr/bin/time';
const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function scratch(): { dir: string; env: NodeJS.ProcessEnv } {
  const dir = mkdtempSync(join(tmpdir(), 'roam-bomb-'));
  dirs.push(dir);
  mkdirSync(join(dir, 'home'));
  return { dir, env: { PATH: process.env.PATH, HOME: join(dir, 'home'), ROAM_HOME: join(dir, 'roam') } };
}

/** `roam import <file>` under /usr/bin/time -v: its exit code, stderr, peak RSS in MB and wall time in s. */
function importMeasured(file: string, env: NodeJS.ProcessEnv, cwd: string) {
  const r = spawnSync(TIME, ['-v', process.execPath, ROAM, 'import', file], { env, cwd, encoding: 'utf8', timeout: 120_000 });
  const rssKb = Number(/Maximum resident set size \(kbytes\): (\d+)/.exec(r.stderr)?.[1]);
  const wall = /Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): (?:(\d+):)?(\d+):([\d.]+)/.exec(r.stderr);
  const seconds = wall ? Number(wall[1] ?? 0) * 3600 + Number(wall[2]) * 60 + Number(wall[3]) : NaN;
  return { status: r.status, stderr: r.stderr, rssMb: rssKb / 1024, seconds };
}

describe.skipIf(!existsSync(TIME))('roam import of a gzip bomb', () => {
  it('3 GiB of zeros in 3 MB of gzip: ROAM_BUNDLE_TOO_LARGE, peak RSS under 300 MB', () => {
    const { dir, env } = scratch();
    // Concatenated gzip members are one gzip stream: 48 × 64 MiB of zeros.
    const member = gzipSync(Buffer.alloc(64 * 1024 * 1024));
    const bomb = join(dir, 'bomb.roam');
    writeFileSync(bomb, Buffer.concat(Array.from({ length: 48 }, () => member)));
    const r = importMeasured(bomb, env, dir);
    console.log(`gzip bomb: exit ${r.status}, peak RSS ${r.rssMb.toFixed(0)} MB, ${r.seconds.toFixed(2)} s`);
    expect(r.stderr).toMatch(/^ROAM_BUNDLE_TOO_LARGE: /m);
    expect(r.status).toBe(1);
    expect(r.rssMb).toBeLessThan(300);
    expect(MAX_BUNDLE_BYTES).toBeLessThan(48 * 64 * 1024 * 1024);
  }, 120_000);

  it('a file past the per-file cap: ROAM_BUNDLE_TOO_LARGE before its bytes are decoded', () => {
    const { dir, env } = scratch();
    const manifest = {
      format: 'roam-session-bundle', version: 1, tool: 'claude', sessionId: 'big', title: null, created: null, lastActivity: '2026-01-01T00:00:00Z',
      exported: '2026-01-01T00:00:00Z', sourceDevice: 'x', cwd: null, gitBranch: null, redacted: false, redactions: {},
      files: [{ name: 'session.jsonl', bytes: MAX_BUNDLE_FILE_BYTES + 1, sha256: '0'.repeat(64) }],
    };
    const file = join(dir, 'big.roam');
    writeFileSync(file, gzipSync(JSON.stringify({ manifest, files: { 'session.jsonl': '' } })));
    const r = importMeasured(file, env, dir);
    expect(r.stderr).toMatch(/^ROAM_BUNDLE_TOO_LARGE: session\.jsonl inflates past 160 MiB/m);
    expect(r.status).toBe(1);
  }, 60_000);
});
