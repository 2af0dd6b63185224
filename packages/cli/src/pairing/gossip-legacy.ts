/**
 * Members that run a roam older than membership protocol 2: told clearly to upgrade, never
 * synced with.
 *
 * An older roam speaks `/roam/members/1.0.0` only, reads v1 entries only (one v2 entry makes it
 * refuse a whole message) and waits for a membership message before it opens a sync stream. So
 * this device answers it there, in its format: the v1 entries of the log (what it can read; v2
 * entries are left out, never rewritten), the secret's claim, no secret, no addresses. With that
 * the older device opens the sync stream, and the sync `hello` (protocol 2..2 against its 1..1)
 * makes both sides stop with ROAM_PROTOCOL_VERSION, "upgrade roam on <that device>", before any
 * session byte moves. Nothing that device sends on the old protocol is merged.
 */
import type { Stream } from '@libp2p/interface';
import { lpStream } from '@libp2p/utils';
import { z } from 'zod';
import { claimOf } from './group.js';
import type { Entry } from './members.js';
import { errText, type TrustState } from './trust-state.js';

import { LEGACY_MEMBERS_PROTOCOL } from './protocols.js';

export { LEGACY_MEMBERS_PROTOCOL };
const MAX_PUSH_BYTES = 1024 * 1024;
const TIMEOUT_MS = 10_000;

/** Enough of an older device's message to know its group; the rest is not read. */
const legacyPushSchema = z.looseObject({ v: z.literal(1), group: z.string().regex(/^[0-9a-f]{32}$/) });

export interface LegacyHooks {
  /** The older member may open a sync stream now (its hello gets the version error). */
  ready(peer: string): void;
}

export class LegacyMembers {
  /** Older members answered on the current connection. */
  private readonly told = new Set<string>();
  /** Older members this device said must upgrade, on the current connection. */
  private readonly warned = new Set<string>();

  constructor(
    private readonly t: TrustState,
    private readonly hooks: LegacyHooks,
  ) {}

  forget(peer: string): void {
    this.told.delete(peer);
    this.warned.delete(peer);
  }

  reset(): void {
    this.told.clear();
    this.warned.clear();
  }

  /** Says once a connection that the peer must upgrade. */
  warn(peer: string): void {
    if (this.warned.has(peer)) return;
    this.warned.add(peer);
    const name = JSON.stringify(this.t.nameOf(peer));
    this.t.log(`${name} (${peer}) runs an older roam (membership protocol 1; this device speaks 2): it cannot sync with this device until you upgrade roam on ${name}`);
  }

  /** An older member's membership message. */
  async onStream(stream: Stream, peer: string): Promise<void> {
    try {
      const lp = lpStream(stream, { maxDataLength: MAX_PUSH_BYTES });
      const bytes = await lp.read({ signal: AbortSignal.timeout(TIMEOUT_MS) });
      await stream.close().catch(() => undefined);
      const msg = legacyPushSchema.safeParse(JSON.parse(new TextDecoder().decode(bytes.subarray())));
      if (!msg.success) throw new Error('malformed membership message');
      if (!this.t.group || msg.data.group !== this.t.group.id || !this.t.allows(peer)) return;
    } catch (err) {
      this.t.log(`membership message (protocol 1) from ${this.t.nameOf(peer)} refused: ${errText(err)}`);
      stream.abort(err as Error);
      return;
    }
    if (this.told.has(peer)) return;
    this.warn(peer);
    await this.push(peer).catch((err: unknown) => this.t.log(`answering ${this.t.nameOf(peer)} (protocol 1) failed: ${errText(err)}`));
  }

  /** Sends an older member what it can read, so that its sync hello reaches this device. */
  async push(peer: string): Promise<void> {
    const net = this.t.net;
    const g = this.t.group;
    if (!net || !g) return;
    const log = g.log.filter((e: Entry) => e.v === 1);
    const msg = { v: 1, group: g.id, log, secret: claimOf(g.secret), addrs: {} };
    const stream = await net.openProtocolStream(peer, LEGACY_MEMBERS_PROTOCOL, AbortSignal.timeout(TIMEOUT_MS));
    try {
      const lp = lpStream(stream, { maxDataLength: MAX_PUSH_BYTES });
      await lp.write(new TextEncoder().encode(JSON.stringify(msg)), { signal: AbortSignal.timeout(TIMEOUT_MS) });
      await stream.close({ signal: AbortSignal.timeout(TIMEOUT_MS) });
    } catch (err) {
      stream.abort(err as Error);
      throw err;
    }
    this.told.add(peer);
    this.hooks.ready(peer);
  }
}
