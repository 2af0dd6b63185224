/**
 * roamd's control methods for pairing: `pair` (invite, or join with a code), `unpair`, `leave`.
 * Leaving gives the device a new identity (its old one stays removed, TRUST.md §5) and, when the
 * daemon can, restarts it with that identity once the command has its answer.
 */
import { peerIdFromPrivateKey } from '@libp2p/peer-id';
import { ErrorCodes, RoamError } from '@roam/core';
import type { Handlers } from '../control/methods.js';
import type { AckResult, ApprovalResult, DeviceInfo, LeaveResult, PairCodeEvent, PairRefusedEvent, PairResult, UnpairResult } from '../control/pairing.js';
import { renewIdentity } from './identity.js';
import type { Trust } from './trust.js';

export interface PairingHandlerContext {
  readonly trust: () => Trust;
  readonly devices: () => DeviceInfo[];
  readonly deviceIdOf: (peerId: string) => string;
  /** ROAM_HOME/identity.key */
  readonly identityFile: string;
  /** Stops roamd and starts it again in the same process (absent: it cannot, the user restarts it). */
  readonly restart?: (() => void) | undefined;
  readonly log: (line: string) => void;
}

export function pairingHandlers(ctx: PairingHandlerContext): Pick<Handlers, 'pair' | 'unpair' | 'leave' | 'ack' | 'approval'> {
  const group = (): PairResult['group'] => {
    const id = ctx.trust().groupId;
    return id ? { id } : null;
  };
  return {
    pair: async (params, stream, closed) => {
      const trust = ctx.trust();
      const timeout = typeof params.timeout === 'number' && params.timeout > 0 ? params.timeout * 1000 : undefined;
      if (typeof params.code === 'string') {
        const peers = Array.isArray(params.peers) ? params.peers.filter((p): p is string => typeof p === 'string').slice(0, 8) : [];
        const r = await trust.join(params.code, timeout ?? 30_000, undefined, peers);
        return { joined: r.inviter, inviter: r.inviter, group: group(), devices: ctx.devices() } satisfies PairResult;
      }
      const inv = await trust.invite(timeout ?? 600_000, (refused) => void stream({ refused } satisfies PairRefusedEvent), params.short === true);
      // The code goes to the command only (never to the log).
      stream({ code: inv.code, expiresAt: inv.expiresAt, ...(params.short === true ? { addresses: inv.addresses } : {}) } satisfies PairCodeEvent);
      void closed.then(() => inv.cancel());
      const joined = await inv.outcome;
      return { joined, group: group(), devices: ctx.devices() } satisfies PairResult;
    },
    unpair: async (params) => {
      if (typeof params.device !== 'string' || !params.device) throw new RoamError(ErrorCodes.USAGE, 'name the device to remove');
      const r = await ctx.trust().unpair(params.device, ctx.deviceIdOf);
      return { removed: { peerId: r.peerId, name: r.name }, generation: r.generation, devices: ctx.devices() } satisfies UnpairResult;
    },
    ack: async (params) => {
      if (typeof params.device !== 'string' || !params.device) throw new RoamError(ErrorCodes.USAGE, 'name the device to acknowledge');
      const r = await ctx.trust().ack(params.device, ctx.deviceIdOf);
      return { acknowledged: { peerId: r.peerId, name: r.name }, pending: r.pending, devices: ctx.devices() } satisfies AckResult;
    },
    approval: async (params) => {
      if (typeof params.on !== 'boolean') throw new RoamError(ErrorCodes.USAGE, 'say on or off');
      const r = await ctx.trust().setApprove(params.on);
      return { approve: r.approve, devices: ctx.devices() } satisfies ApprovalResult;
    },
    leave: async (_params, _stream, closed): Promise<LeaveResult> => {
      const trust = ctx.trust();
      const previousPeerId = trust.selfId;
      const was = group();
      const r = await trust.leave();
      // A remove wins forever: the old identity could never pair again, whether this device left
      // just now or was removed earlier (an unpair, or a leave before identities were renewed).
      const peerId = peerIdFromPrivateKey(await renewIdentity(ctx.identityFile)).toString();
      const restarted = ctx.restart !== undefined;
      ctx.log(`this device has a new identity ${peerId}; the old one, ${previousPeerId}, stays retired (${restarted ? 'roamd restarts with the new one' : 'restart roamd to use the new one'})`);
      if (ctx.restart) void closed.then(ctx.restart);
      return { ...r, group: was, previousPeerId, peerId, restarted };
    },
  };
}
