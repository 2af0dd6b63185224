/**
 * A small internet in network namespaces, for tests of reach across NAT: a "public" namespace
 * with a bridge (198.18.0.0/24, the benchmarking range: it exists only inside these namespaces),
 * N "home" networks (10.201.<n>.0/24), each behind a router namespace that masquerades its LAN
 * with nftables on its WAN port, and hosts, each a namespace of its own with one veth, attached
 * to a home LAN or to the public bridge. `move(host, network)` deletes a host's veth and attaches
 * a new one elsewhere (its open TCP connections die, as a laptop's do when it changes networks).
 *
 * Every name starts with `roam-topo-<pid>-<random>`: namespaces left by a killed run (whose pid no
 * longer runs) are deleted when the next topology is made. `remove()` deletes every namespace (and
 * with them every veth and bridge); call it in afterAll/finally. Needs root, iproute2 and nftables.
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { listNamespaces, removeNamespaces } from './netns.js';

export const PUBLIC_SUBNET = '198.18.0.0/24';
const NS_PREFIX = 'roam-topo';

export interface Host {
  readonly name: string;
  /** The host's namespace (`ip netns exec <ns> …`). */
  readonly ns: string;
  /** Its current address (changes with `move`). */
  address: string;
  /** 'public' or a home's index (1-based). */
  network: Network;
}

export type Network = 'public' | number;

export interface Home {
  readonly index: number;
  /** The router's namespace. */
  readonly router: string;
  /** The router's address on the public bridge: what servers see for every host behind it. */
  readonly wan: string;
  /** The LAN behind it, e.g. 10.201.1.0/24. */
  readonly subnet: string;
  /** A fresh random source port per mapping (`masquerade random,fully-random`). */
  readonly randomPorts: boolean;
}

export interface Topology {
  readonly prefix: string;
  /** The public namespace (its bridge is `br0`, 198.18.0.1). */
  readonly publicNs: string;
  readonly homes: readonly Home[];
  readonly hosts: ReadonlyMap<string, Host>;
  /** A new host namespace attached to `network`. */
  addHost(name: string, network: Network): Host;
  /** Re-attaches a host to another network: a new veth, a new address. */
  move(host: Host, to: Network): void;
  /** Runs a command inside a namespace (spawnSync; never throws). */
  exec(ns: string, cmd: string, args: string[], timeoutMs?: number): { status: number | null; stdout: string; stderr: string };
  /** Deletes every namespace (idempotent); returns the names still listed afterwards. */
  remove(): string[];
}

export type TopologyResult = { readonly ok: true; readonly topology: Topology } | { readonly ok: false; readonly reason: string };

function run(cmd: string, args: string[], input?: string, timeoutMs = 10_000): { ok: boolean; out: string } {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: timeoutMs, ...(input !== undefined ? { input } : {}) });
  if (r.error) return { ok: false, out: `${cmd} ${args.join(' ')}: ${r.error.message}` };
  return { ok: r.status === 0, out: `${r.stdout}${r.stderr}`.trim() };
}

function must(cmd: string, args: string[], input?: string): void {
  const r = run(cmd, args, input);
  if (!r.ok) throw new Error(`${cmd} ${args.join(' ')} failed: ${r.out}`);
}

const ip = (...args: string[]): void => must('ip', args);

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
};

/** Deletes the namespaces of earlier runs whose process is gone (a run killed before its cleanup). */
export function removeLeftovers(): string[] {
  const stale = listNamespaces().filter((n) => {
    const m = new RegExp(`^${NS_PREFIX}-(\\d+)-`).exec(n);
    return m !== null && !alive(Number(m[1]));
  });
  return removeNamespaces(stale);
}

/** Every namespace any topology of this process made (for a last-resort cleanup on exit). */
const madeHere = new Set<string>();
process.once('exit', () => {
  for (const n of madeHere) spawnSync('ip', ['netns', 'del', n], { timeout: 5_000 });
});

/**
 * Builds the public namespace and `homes` routers (`randomPorts[i]` gives home i+1 a fully
 * random NAT). Any failure after the first namespace exists deletes what was made and throws.
 */
export function createTopology(opts: { homes: number; randomPorts?: readonly boolean[]; publicPrefix?: string }): TopologyResult {
  // `publicPrefix`: the public bridge's first three octets (198.18.0 by default). A UPnP router
  // (miniupnpd) and libp2p's UPnP client both refuse a reserved WAN address, taking it for a
  // double NAT: the UPnP test gives another; it exists only inside these namespaces all the same.
  const pub = opts.publicPrefix ?? '198.18.0';
  removeLeftovers();
  const prefix = `${NS_PREFIX}-${process.pid}-${randomBytes(2).toString('hex')}`;
  const publicNs = `${prefix}-pub`;
  const names: string[] = [];
  const hosts = new Map<string, Host>();
  const homes: Home[] = [];
  let publicNext = 100;
  const homeNext = new Map<number, number>();
  let vethSeq = 0;

  const addNs = (name: string): void => {
    ip('netns', 'add', name);
    names.push(name);
    madeHere.add(name);
    ip('-n', name, 'link', 'set', 'lo', 'up');
  };
  const remove = (): string[] => {
    const left = removeNamespaces(names);
    for (const n of names) if (!left.includes(n)) madeHere.delete(n);
    return left;
  };

  /** A veth from `ns` (named `dev` there) to the public bridge or a router's LAN bridge. */
  const attach = (ns: string, dev: string, to: Network): void => {
    const [bridgeNs, bridge] = to === 'public' ? [publicNs, 'br0'] : [homeOf(to).router, 'lan0'];
    const peer = `v${++vethSeq}`;
    ip('-n', ns, 'link', 'add', dev, 'type', 'veth', 'peer', 'name', peer, 'netns', bridgeNs);
    ip('-n', bridgeNs, 'link', 'set', peer, 'master', bridge);
    ip('-n', bridgeNs, 'link', 'set', peer, 'up');
    ip('-n', ns, 'link', 'set', dev, 'up');
  };
  const homeOf = (index: number): Home => {
    const h = homes.find((x) => x.index === index);
    if (!h) throw new Error(`no home network ${index}`);
    return h;
  };
  /** The next host address on a network, and its gateway (none on the public bridge). */
  const nextAddress = (to: Network): { address: string; gateway: string | null } => {
    if (to === 'public') return { address: `${pub}.${publicNext++}`, gateway: null };
    const n = homeNext.get(to) ?? 10;
    homeNext.set(to, n + 1);
    return { address: `10.201.${to}.${n}`, gateway: `10.201.${to}.1` };
  };
  const plug = (host: Host, to: Network): void => {
    attach(host.ns, 'eth0', to);
    const { address, gateway } = nextAddress(to);
    ip('-n', host.ns, 'addr', 'add', `${address}/24`, 'dev', 'eth0');
    if (gateway) ip('-n', host.ns, 'route', 'add', 'default', 'via', gateway);
    host.address = address;
    host.network = to;
  };

  const first = run('ip', ['netns', 'add', publicNs]);
  if (!first.ok) return { ok: false, reason: `ip netns add ${publicNs}: ${first.out}` };
  names.push(publicNs);
  madeHere.add(publicNs);
  try {
    ip('-n', publicNs, 'link', 'set', 'lo', 'up');
    ip('-n', publicNs, 'link', 'add', 'br0', 'type', 'bridge');
    ip('-n', publicNs, 'addr', 'add', `${pub}.1/24`, 'dev', 'br0');
    ip('-n', publicNs, 'link', 'set', 'br0', 'up');
    for (let i = 1; i <= opts.homes; i++) {
      const router = `${prefix}-r${i}`;
      const randomPorts = opts.randomPorts?.[i - 1] ?? false;
      const home: Home = { index: i, router, wan: `${pub}.${10 + i}`, subnet: `10.201.${i}.0/24`, randomPorts };
      addNs(router);
      homes.push(home);
      attach(router, 'wan', 'public');
      ip('-n', router, 'addr', 'add', `${home.wan}/24`, 'dev', 'wan');
      ip('-n', router, 'link', 'add', 'lan0', 'type', 'bridge');
      ip('-n', router, 'addr', 'add', `10.201.${i}.1/24`, 'dev', 'lan0');
      ip('-n', router, 'link', 'set', 'lan0', 'up');
      must('ip', ['netns', 'exec', router, 'sysctl', '-qw', 'net.ipv4.ip_forward=1']);
      // Only what leaves through the WAN port is translated; nothing is forwarded in unasked.
      const masq = randomPorts ? 'masquerade random,fully-random' : 'masquerade';
      must('ip', ['netns', 'exec', router, 'nft', '-f', '-'], [
        'table ip nat {',
        '  chain post {',
        '    type nat hook postrouting priority 100;',
        `    oifname "wan" ${masq}`,
        '  }',
        '}',
        'table ip filter {',
        '  chain lanfwd {',
        '    type filter hook forward priority 0; policy drop;',
        '    ct state established,related accept',
        '    iifname "lan0" oifname "wan" accept',
        // br_netfilter (when loaded) shows bridged LAN traffic to this hook too.
        '    iifname "lan0" oifname "lan0" accept',
        '  }',
        '}',
      ].join('\n'));
    }
  } catch (err) {
    remove();
    throw err;
  }

  const topology: Topology = {
    prefix, publicNs, homes, hosts,
    addHost(name, network) {
      if (hosts.has(name)) throw new Error(`host ${name} exists`);
      const host: Host = { name, ns: `${prefix}-h-${name}`, address: '', network };
      addNs(host.ns);
      hosts.set(name, host);
      plug(host, network);
      return host;
    },
    move(host, to) {
      // Deleting one end deletes the pair: the host is off its old network at once.
      ip('-n', host.ns, 'link', 'del', 'eth0');
      plug(host, to);
    },
    exec(ns, cmd, args, timeoutMs = 10_000) {
      const r = spawnSync('ip', ['netns', 'exec', ns, cmd, ...args], { encoding: 'utf8', timeout: timeoutMs });
      return { status: r.status, stdout: r.stdout ?? '', stderr: `${r.stderr ?? ''}${r.error ? r.error.message : ''}` };
    },
    remove,
  };
  return { ok: true, topology };
}
