/** Which folders peers offer, which this device skips, and which tool folders it takes (daemon/offers.ts). */
import { describe, expect, it } from 'vitest';
import type { SyncState } from '@roam/core';
import { folderOffers, toolFoldersToTake, type OfferInput, type PeerFolders } from '../src/daemon/offers.js';
import { toolFolders } from '../src/machine/config.js';

const tools = toolFolders({ HOME: '/home/b', CODEX_HOME: '/opt/codex' });
const state = (folder: string, ignored = 0, deletedHere = 0): SyncState => ({
  folder, peer: 'a', indexComplete: true, need: { items: 0, bytes: 0 }, peerNeeds: { items: 0, bytes: 0 }, skipped: { ignored, deletedHere }, inSync: true,
});
const peer = (name: string, folders: PeerFolders['folders'], states: SyncState[] = []): PeerFolders => ({ deviceId: `${name}-id`, name, folders, states });
const offer = (id: string) => ({ id, only: null, declined: false });
const input = (peers: PeerFolders[], held: string[] = [], excluded: string[] = []): OfferInput => ({ peers, held: new Set(held), excluded: new Set(excluded), tools });

describe('folder offers', () => {
  it("takes a peer's tool folders at this device's own paths, never an opted-out one nor a user's folder", () => {
    const i = input([peer('alpha', [offer('claude'), offer('codex'), offer('gemini'), offer('notes')])], [], ['gemini']);
    expect(toolFoldersToTake(i, () => false).map((t) => [t.spec.id, t.spec.path, t.why])).toEqual([
      ['claude', '/home/b/.claude/projects', 'shared by alpha'],
      ['codex', '/opt/codex/sessions', 'shared by alpha'],
    ]);
    // A tool folder that appeared here is taken with no peer at all; one held is not taken again.
    expect(toolFoldersToTake(input([], ['claude']), (p) => p.startsWith('/home/b/.claude') || p.startsWith('/home/b/.copilot')).map((t) => [t.spec.id, t.why])).toEqual([['copilot', 'it appeared here']]);
  });

  it('a folder a peer declined or selected nothing of is no offer; what this device declines is skipped, a user folder offered', () => {
    const v = folderOffers(
      input(
        [
          peer('alpha', [offer('notes'), offer('gemini'), { id: 'codex', only: [], declined: false }], [state('claude', 3, 1)]),
          peer('gamma', [offer('notes'), { id: 'claude', only: [], declined: true }]),
        ],
        ['claude'],
        ['gemini'],
      ),
    );
    expect(v.offers.get('alpha-id')).toEqual(['notes']);
    expect(v.offers.get('gamma-id')).toEqual(['notes']);
    expect(v.optedOut.get('gamma-id')).toEqual(['claude']);
    expect(v.offered).toEqual([{ id: 'notes', by: ['alpha', 'gamma'], tool: false, path: null }]);
    expect(v.skipped).toEqual([
      { folder: 'gemini', reason: 'opted out', items: null, by: ['alpha'] },
      { folder: 'claude', reason: 'deleted here', items: 1, by: ['alpha'] },
      { folder: 'claude', reason: 'ignored', items: 3, by: ['alpha'] },
    ]);
  });
});
