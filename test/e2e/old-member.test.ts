/**
 * A member that still runs a roam of protocol 1 (before versioned membership entries) gets the
 * clear "upgrade roam" error, not silence or a refused message. A real roamd (protocol 2) is
 * paired with beta; beta's daemon stops, and beta's identity and group secret then speak as the
 * older build did: `/roam/members/1.0.0` only, v1 messages, a sync hello of protocol 1..1.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import '../../packages/cli/src/polyfill.js';
import { privateKeyFromProtobuf } from '@libp2p/crypto/keys';
import type { Libp2p, Stream } from '@libp2p/interface';
import { lpStream } from '@libp2p/utils';
import { multiaddr } from '@multiformats/multiaddr';
import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ErrorCodes, RoamError } from '../../packages/core/src/errors.js';
import { decodeMessage, encodeMessage, negotiate } from '../../packages/core/src/protocol/codec.js';
import { PROTOCOL_ID } from '../../packages/core/src/protocol/limits.js';
import type { Hello } from '../../packages/core/src/protocol/schema.js';
import { until } from '../../packages/core/test/support/poll.js';
import { buildNode } from '../../packages/cli/src/daemon/net/node.js';
import { deviceIdOf } from '../../packages/cli/src/daemon/net/peer-ids.js';
import { groupFileSchema, secretClaimSchema } from '../../packages/cli/src/pairing/group.js';
import { entryV1Schema } from '../../packages/cli/src/pairing/members.js';
import { GroupProtector } from '../../packages/cli/src/pairing/protector.js';
import { stopAll } from '../support/daemons.js';
import { Pairing } from '../support/pair.js';

const paired = new Pairing();
const nodes: Libp2p[] = [];

afterEach(async () => {
  await Promise.all(nodes.splice(0).map((n) => Promise.resolve(n.stop()).catch(() => undefined)));
  paired.killAll();
  await stopAll();
});


/** The membership message of protocol 1, as the older build parsed it (closed objects). */
const v1PushSchema = z.strictObject({
  v: z.literal(1),
  group: z.string().regex(/^[0-9a-f]{32}$/),
  log: z.array(entryV1Schema),
  secret: secretClaimSchema,
  key: z.string().optional(),
  addrs: z.record(z.string(), z.array(z.string())),
});

async function readOne(stream: Stream): Promise<Uint8Array> {
  const lp = lpStream(stream, { maxDataLength: 2 * 1024 * 1024 });
  return (await lp.read({ signal: AbortSignal.timeout(10_000) })).subarray();
}

describe('a member of protocol 1', () => {
  it('is answered in its own format and told to upgrade by the sync hello, on both sides', { timeout: 120_000 }, async () => {
    const a = paired.device('alpha');
    const b = paired.device('beta');
    await a.start();
    await b.start();
    await paired.pair(a, b);
    await b.kill();

    // beta as the older build: its identity and group secret, protocol 1 only.
    const key = privateKeyFromProtobuf(readFileSync(join(b.roamHome, 'identity.key')));
    const group = groupFileSchema.parse(JSON.parse(readFileSync(join(b.roamHome, 'group.json'), 'utf8')));
    const protector = new GroupProtector();
    const secret = { key: Buffer.from(group.secret.key, 'hex'), label: 'the group secret' };
    protector.setKeys(secret, [secret]);
    const old = await buildNode({ privateKey: key, listen: [], protector, deny: () => false, dialTimeoutMs: 10_000 });
    nodes.push(old);
    const pushes: unknown[] = [];
    await old.handle('/roam/members/1.0.0', async (stream) => {
      pushes.push(JSON.parse(new TextDecoder().decode(await readOne(stream))));
    });
    const theirHellos: Hello[] = [];
    const helloOf = (peer: string): Uint8Array => {
      const msg = { t: 'hello', protocol: 1, minProtocol: 1, device: deviceIdOf(peer), name: 'beta', software: 'roam/0.0.9' } as const;
      return encodeMessage(msg);
    };
    const talk = async (stream: Stream): Promise<void> => {
      const lp = lpStream(stream, { maxDataLength: 2 * 1024 * 1024 });
      await lp.write(helloOf(old.peerId.toString()));
      const msg = decodeMessage((await lp.read({ signal: AbortSignal.timeout(10_000) })).subarray());
      if (msg.t === 'hello') theirHellos.push(msg);
    };
    await old.handle(PROTOCOL_ID, (stream) => void talk(stream).catch(() => undefined));
    await old.start();

    const conn = await old.dial(multiaddr(a.addresses[0]!), { signal: AbortSignal.timeout(10_000) });
    // The older build greets with its own view on /roam/members/1.0.0.
    const greet = await conn.newStream('/roam/members/1.0.0', { signal: AbortSignal.timeout(10_000) });
    await lpStream(greet).write(new TextEncoder().encode(JSON.stringify({ v: 1, group: group.id, log: [], secret: { gen: group.secret.gen, fp: 'ab'.repeat(32), by: group.secret.by, sig: group.secret.sig }, addrs: {} })));
    await greet.close();

    // alpha answers in the format protocol 1 reads: v1 entries only, no secret, no addresses.
    await until(() => pushes.length > 0, { timeoutMs: 10_000, what: "alpha's answer on /roam/members/1.0.0", detail: () => a.output.slice(-1500) });
    const parsed = v1PushSchema.safeParse(pushes[0]);
    expect(parsed.success, JSON.stringify(parsed.error?.issues)).toBe(true);
    expect(parsed.data!.key).toBeUndefined();

    // Then the sync hello: the older build's own check names itself; alpha names beta.
    if (theirHellos.length === 0) await talk(await conn.newStream(PROTOCOL_ID, { signal: AbortSignal.timeout(10_000) })).catch(() => undefined);
    await until(() => theirHellos.length > 0, { timeoutMs: 10_000, what: "alpha's sync hello" });
    let err: unknown;
    try {
      negotiate({ protocol: 1, minProtocol: 1 }, theirHellos[0]!);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(RoamError);
    expect((err as RoamError).code).toBe(ErrorCodes.PROTOCOL_VERSION);
    expect((err as RoamError).message).toBe('"alpha" speaks protocol 2..2, this device 1..1: upgrade roam on this device');
    expect(a.output).toMatch(/"beta" \(\S+\) runs an older roam \(membership protocol 1; this device speaks 2\): .* upgrade roam on "beta"/);
    const versionError = /ROAM_PROTOCOL_VERSION: "beta" speaks protocol 1\.\.1, this device 2\.\.2: upgrade roam on "beta"/;
    await until(() => versionError.test(a.output), { timeoutMs: 10_000, what: "alpha's sync to stop with the version error", detail: () => a.output.slice(-1500) });
  });
});
