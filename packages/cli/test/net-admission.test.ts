import type { MultiaddrConnection } from '@libp2p/interface';
import { multiaddr } from '@multiformats/multiaddr';
import { describe, expect, it } from 'vitest';
import { InboundAdmission, addressKey } from '../src/daemon/net/admission.js';

/** Just what admission uses of a connection: its remote address, 'close', abort. */
function conn(addr: string): MultiaddrConnection & { aborted: boolean; fireClose(): void } {
  const target = new EventTarget();
  const c = {
    remoteAddr: multiaddr(addr),
    aborted: false,
    addEventListener: target.addEventListener.bind(target),
    abort() {
      c.aborted = true;
      target.dispatchEvent(new Event('close'));
    },
    fireClose: () => target.dispatchEvent(new Event('close')),
  };
  return c as unknown as MultiaddrConnection & { aborted: boolean; fireClose(): void };
}

describe('inbound admission', () => {
  it('bounds pending connections per address and frees a slot on close or upgrade', () => {
    const a = new InboundAdmission({ perAddress: 2, total: 10 });
    const [c1, c2, c3] = [conn('/ip4/10.0.0.1/tcp/1'), conn('/ip4/10.0.0.1/tcp/2'), conn('/ip4/10.0.0.1/tcp/3')];
    expect(a.deny(c1)).toBe(false);
    expect(a.deny(c2)).toBe(false);
    expect(a.deny(c3)).toBe(true);
    expect(a.deny(conn('/ip4/10.0.0.2/tcp/1'))).toBe(false);
    c1.fireClose();
    expect(a.deny(c3)).toBe(false);
    a.release(c2);
    a.release(c2);
    expect(a.size).toBe(2);
    expect(a.refused).toBe(1);
  });

  it('when full, evicts the oldest pending connection of the address holding the most', () => {
    const a = new InboundAdmission({ perAddress: 3, total: 4 });
    const flood = [1, 2, 3].map((p) => conn(`/ip4/10.0.0.9/tcp/${p}`));
    for (const c of flood) expect(a.deny(c)).toBe(false);
    const other = conn('/ip4/10.0.0.5/tcp/1');
    expect(a.deny(other)).toBe(false);
    const member = conn('/ip4/10.0.0.7/tcp/1');
    expect(a.deny(member)).toBe(false);
    expect(flood.map((c) => c.aborted)).toEqual([true, false, false]);
    expect(other.aborted).toBe(false);
    expect(a.size).toBe(4);
    expect(a.evicted).toBe(1);
  });

  it('counts an IPv6 /64 as one address', () => {
    expect(addressKey(conn('/ip6/2001:db8:1:2::5/tcp/1'))).toBe(addressKey(conn('/ip6/2001:0db8:1:2:ffff::1/tcp/9')));
    expect(addressKey(conn('/ip6/2001:db8:1:3::5/tcp/1'))).not.toBe(addressKey(conn('/ip6/2001:db8:1:2::5/tcp/1')));
    expect(addressKey(conn('/ip4/127.0.0.2/tcp/1'))).toBe('127.0.0.2');
  });
});
