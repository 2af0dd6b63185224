/**
 * roam's shared folder: each device's file is rewritten (and so sent to every peer) when its content
 * changes or a heartbeat is due, not for every line a session gains.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { writeShared } from '../src/daemon/leases.js';
import { HEARTBEAT_MS, readShared, type Lease, type SharedInfo } from '../src/machine/leases.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function folder(): string {
  const root = mkdtempSync(join(tmpdir(), 'roam-shared-'));
  dirs.push(root);
  return join(root, 'shared');
}

const lease = (lastActive: number, session = 's1'): Lease => ({ tool: 'claude', session, project: 'p', since: 1_000, lastActive, pid: null, cwd: null });
const info = (updatedAt: number, leases: Lease[]): SharedInfo => ({ v: 1, device: '0123456789abcdef', name: 'laptop', updatedAt, leases, projects: {} });

describe('writeShared', () => {
  it('does not rewrite the file for a lease that was merely active again; the heartbeat carries it', () => {
    const dir = folder();
    const t0 = 1_000_000;
    let prev = info(t0, [lease(t0)]);
    expect(writeShared(dir, prev, null)).toBe(true);
    // A line appended every second: lastActive moves, nothing else does.
    for (let t = t0 + 1_000; t < t0 + HEARTBEAT_MS; t += 1_000) {
      expect(writeShared(dir, info(t, [lease(t)]), prev)).toBe(false);
    }
    const beat = info(t0 + HEARTBEAT_MS, [lease(t0 + HEARTBEAT_MS)]);
    expect(writeShared(dir, beat, prev)).toBe(true);
    prev = beat;
    expect(readShared(dir)).toEqual([beat]);
    expect(JSON.parse(readFileSync(join(dir, '0123456789abcdef.json'), 'utf8')).leases[0].lastActive).toBe(t0 + HEARTBEAT_MS);
  });

  it('rewrites at once when a lease starts or ends, or the projects change', () => {
    const dir = folder();
    const prev = info(1, [lease(1)]);
    writeShared(dir, prev, null);
    expect(writeShared(dir, info(2, [lease(2), lease(2, 's2')]), prev)).toBe(true);
    expect(writeShared(dir, info(3, []), prev)).toBe(true);
    expect(writeShared(dir, { ...info(4, [lease(4)]), projects: { w: { remote: 'r', sub: '' } } }, prev)).toBe(true);
  });
});
