/**
 * roamd's side of the rule on partial last lines (docs/PROTOCOL.md, "Partial last lines"): the
 * bound from ROAM_PARTIAL_TAIL_MS, and which items a live writer holds (a lease on their session).
 */
import { describe, expect, it } from 'vitest';
import { partialTailOptions } from '../src/daemon/partial-tail.js';
import type { Lease } from '../src/machine/leases.js';

const SID = '0a0b0c0d-1111-4222-8333-944445555666';
const lease = (session: string): Lease => ({ tool: 'claude', session, project: 'p', since: 1, lastActive: 2, pid: 42, cwd: '/w' });
const folders = [{ id: 'claude', path: '/home/u/.claude/projects' }, { id: 'notes', path: '/home/u/notes' }];
const noHead = () => null;

describe('partialTailOptions', () => {
  it('takes the bound from ROAM_PARTIAL_TAIL_MS, whole milliseconds only; the engine\'s default otherwise', () => {
    expect(partialTailOptions({ ROAM_PARTIAL_TAIL_MS: '1500' }, folders, () => [], noHead).partialTailMs).toBe(1500);
    expect('partialTailMs' in partialTailOptions({}, folders, () => [], noHead)).toBe(false);
    for (const bad of ['', '1.5', '-1', '30s', '99999999999'])
      expect(() => partialTailOptions({ ROAM_PARTIAL_TAIL_MS: bad }, folders, () => [], noHead)).toThrow(/ROAM_PARTIAL_TAIL_MS must be a whole number of milliseconds/);
  });

  it('counts a session this device leases as held by a live writer, and nothing else', () => {
    let leases: Lease[] = [lease(SID)];
    const { liveWriter } = partialTailOptions({}, folders, () => leases, noHead);
    expect(liveWriter!('claude', `proj/${SID}.jsonl`)).toBe(true);
    expect(liveWriter!('claude', `proj/${SID}/subagents/agent-1.jsonl`)).toBe(false); // not the session's own log
    expect(liveWriter!('claude', 'proj/another.jsonl')).toBe(false);
    expect(liveWriter!('notes', `proj/${SID}.jsonl`)).toBe(false); // no session in a user's folder
    leases = [];
    expect(liveWriter!('claude', `proj/${SID}.jsonl`)).toBe(false);
  });
});
