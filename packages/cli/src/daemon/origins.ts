/**
 * `origins`: the device each session held here came from, read from the index roamd keeps: every
 * item records the device that produced its content (`modifiedBy`, a device id), and a session's
 * items are found by the id in their names (sessionIdOfItem). A session's device is that of its
 * newest item (its transcript's last writer, in practice).
 */
import type { Engine } from '@roam/core';
import type { OriginsResult } from '../control/results.js';
import type { Status } from '../control/protocol.js';
import type { FolderSpec } from '../machine/config.js';
import { SHARED_FOLDER } from '../machine/leases.js';
import { sessionIdOfItem } from '../machine/trash.js';
import { deviceIdOf } from './net/index.js';

export function origins(ctx: { folders: readonly FolderSpec[]; engine: Engine; status: Status; members: ReadonlyArray<{ name: string; peerId: string }> }): OriginsResult {
  const devices: Record<string, string> = {};
  for (const m of ctx.members) devices[deviceIdOf(m.peerId)] = m.name;
  for (const p of ctx.status.peers) devices[p.deviceId] = p.name;
  devices[ctx.status.deviceId] = ctx.status.name;
  const newest = new Map<string, { mtimeMs: number; by: string }>();
  for (const f of ctx.folders) {
    if (f.id === SHARED_FOLDER) continue;
    for (const m of ctx.engine.replicator.localItems(f.id)) {
      if (m.deleted) continue;
      const id = sessionIdOfItem(f.id, m.name);
      if (!id) continue;
      const seen = newest.get(id);
      if (!seen || m.mtimeMs > seen.mtimeMs) newest.set(id, { mtimeMs: m.mtimeMs, by: m.modifiedBy });
    }
  }
  const sessions: Record<string, string> = {};
  for (const [id, { by }] of newest) sessions[id] = by;
  return { devices, sessions };
}
