/**
 * Two throw-away network namespaces joined by a veth pair, for tests that must not touch the
 * host's real interfaces (mDNS). The veth ends are created directly inside the namespaces (they
 * never exist on the host) with addresses in a private /24 that exists only inside them, and each
 * namespace gets a route for 224.0.0.0/4 so multicast leaves through its veth end. Needs root and
 * iproute2. Deleting a namespace removes its veth end (and with it the pair).
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';

export interface Namespace {
  /** The namespace name (`ip netns exec <name> …`). */
  readonly name: string;
  /** The veth end inside it. */
  readonly dev: string;
  /** Its address on the veth pair (no prefix length). */
  readonly address: string;
}

export interface VethPair {
  readonly a: Namespace;
  readonly b: Namespace;
  /** The private /24 the pair uses, e.g. `10.213.57.0/24`. */
  readonly subnet: string;
  /** Deletes both namespaces (idempotent). Returns the names still listed afterwards. */
  remove(): string[];
}

export type VethPairResult =
  | { readonly ok: true; readonly pair: VethPair }
  /** `ip netns add` itself failed: not root, no iproute2, no namespace support. */
  | { readonly ok: false; readonly reason: string };

function ip(...args: string[]): { ok: boolean; out: string } {
  const r = spawnSync('ip', args, { encoding: 'utf8', timeout: 10_000 });
  if (r.error) return { ok: false, out: `ip ${args.join(' ')}: ${r.error.message}` };
  return { ok: r.status === 0, out: `${r.stdout}${r.stderr}`.trim() };
}

function mustIp(...args: string[]): void {
  const r = ip(...args);
  if (!r.ok) throw new Error(`ip ${args.join(' ')} failed: ${r.out}`);
}

/** The names `ip netns list` shows (without the `(id: n)` suffix). */
export function listNamespaces(): string[] {
  const r = ip('netns', 'list');
  if (!r.ok) return [];
  return r.out.split('\n').map((l) => l.trim().split(/\s+/)[0] ?? '').filter((n) => n !== '');
}

/** Deletes the named namespaces that exist; returns those still listed afterwards. */
export function removeNamespaces(names: readonly string[]): string[] {
  for (const n of names) if (listNamespaces().includes(n)) ip('netns', 'del', n);
  const left = listNamespaces();
  return names.filter((n) => left.includes(n));
}

/**
 * Creates `<prefix>-a` and `<prefix>-b` (prefix made unique with the pid and a random suffix),
 * joined by a veth pair at 10.213.<random>.1 and .2. Any failure after `ip netns add` worked
 * deletes what was made and throws.
 */
export function createVethPair(prefix = 'roam-netns'): VethPairResult {
  const base = `${prefix}-${process.pid}-${randomBytes(2).toString('hex')}`;
  const octet = 1 + Math.floor(Math.random() * 254);
  const a: Namespace = { name: `${base}-a`, dev: 'veth-a', address: `10.213.${octet}.1` };
  const b: Namespace = { name: `${base}-b`, dev: 'veth-b', address: `10.213.${octet}.2` };
  const names = [a.name, b.name];
  const remove = (): string[] => removeNamespaces(names);

  const first = ip('netns', 'add', a.name);
  if (!first.ok) return { ok: false, reason: `ip netns add ${a.name}: ${first.out}` };
  try {
    mustIp('netns', 'add', b.name);
    // Both ends are born inside the namespaces: nothing appears on the host's interfaces.
    mustIp('-n', a.name, 'link', 'add', a.dev, 'type', 'veth', 'peer', 'name', b.dev, 'netns', b.name);
    for (const ns of [a, b]) {
      mustIp('-n', ns.name, 'addr', 'add', `${ns.address}/24`, 'dev', ns.dev);
      mustIp('-n', ns.name, 'link', 'set', 'lo', 'up');
      mustIp('-n', ns.name, 'link', 'set', ns.dev, 'up');
      // Without it, multicast sends fail with ENETUNREACH (and multicast-dns swallows that).
      mustIp('-n', ns.name, 'route', 'add', '224.0.0.0/4', 'dev', ns.dev);
    }
  } catch (err) {
    remove();
    throw err;
  }
  return { ok: true, pair: { a, b, subnet: `10.213.${octet}.0/24`, remove } };
}
