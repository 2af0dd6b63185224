/**
 * Plays another device with its own keys: a libp2p node (roam's own node builder and group
 * protector, from the built package) made from a device's ROAM_HOME (identity.key, group.json),
 * run inside a network namespace, that dials `target` and opens a stream of `protocol`. Says
 * whether the stream opened and how many bytes came back before it ended. For tests that make a
 * device try what roamd itself never does (a relay opening a sync stream).
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const DIST = `${ROOT}packages/cli/dist`;

export interface StreamAttempt {
  readonly opened: boolean;
  readonly bytes: number;
  readonly error: string | null;
}

const SCRIPT = `
import { multiaddr } from '@multiformats/multiaddr';
import { loadIdentity } from '${DIST}/daemon/identity.js';
import { buildNode } from '${DIST}/daemon/net/node.js';
import { GroupProtector } from '${DIST}/pairing/protector.js';
import { readGroupFile } from '${DIST}/pairing/group.js';
const [home, target, protocol] = process.argv.slice(1);
const g = readGroupFile(home + '/group.json');
const protector = new GroupProtector({});
const k = { key: Buffer.from(g.secret.key, 'hex'), label: 'the group secret' };
protector.setKeys(k, [k]);
const node = await buildNode({ privateKey: await loadIdentity(home + '/identity.key'), listen: [], protector, deny: () => false, dialTimeoutMs: 8000 });
await node.start();
const out = { opened: false, bytes: 0, error: null };
try {
  const conn = await node.dial(multiaddr(target), { signal: AbortSignal.timeout(8000) });
  const stream = await conn.newStream(protocol, { signal: AbortSignal.timeout(8000) });
  out.opened = true;
  const timer = setTimeout(() => stream.abort(new Error('no end within 8 s')), 8000);
  for await (const chunk of stream) out.bytes += chunk.byteLength;
  clearTimeout(timer);
} catch (err) {
  out.error = String(err?.message ?? err);
}
console.log(JSON.stringify(out));
await node.stop();
process.exit(0);
`;

/** Dials `target` as the device whose ROAM_HOME is `roamHome`, from namespace `ns`, and opens `protocol`. */
export function openStreamAs(ns: string, roamHome: string, target: string, protocol: string): StreamAttempt {
  const r = spawnSync('ip', ['netns', 'exec', ns, process.execPath, '--input-type=module', '-e', SCRIPT, roamHome, target, protocol], { cwd: ROOT, encoding: 'utf8', timeout: 30_000 });
  const line = r.stdout.trim().split('\n').pop() ?? '';
  try {
    return JSON.parse(line) as StreamAttempt;
  } catch {
    throw new Error(`the device script failed (${r.status}): ${r.stderr.slice(-2000)}`);
  }
}
