/**
 * A counting TCP proxy on 127.0.0.1: the dialing device connects here instead of to its peer, and
 * every byte on the wire (encryption, framing and muxing overhead included) is counted both ways.
 */
import net from 'node:net';

export class CountingProxy {
  /** Bytes from the dialer towards the target, and back. */
  up = 0;
  down = 0;
  connections = 0;
  /** When set (diagnostics), every chunk seen: ms since the epoch, direction, bytes. */
  trace: Array<{ at: number; dir: 'up' | 'down'; bytes: number }> | null = null;
  private readonly sockets = new Set<net.Socket>();
  private constructor(private readonly server: net.Server, readonly port: number) {}

  static async start(targetPort: () => number): Promise<CountingProxy> {
    let self: CountingProxy | undefined;
    const server = net.createServer((client) => {
      const p = self!;
      p.connections++;
      const upstream = net.connect(targetPort(), '127.0.0.1');
      for (const s of [client, upstream]) {
        p.sockets.add(s);
        s.setNoDelay(true);
        s.on('close', () => p.sockets.delete(s));
        s.on('error', () => {
          client.destroy();
          upstream.destroy();
        });
      }
      client.on('data', (b: Buffer) => {
        p.up += b.length;
        p.trace?.push({ at: Date.now(), dir: 'up', bytes: b.length });
      });
      upstream.on('data', (b: Buffer) => {
        p.down += b.length;
        p.trace?.push({ at: Date.now(), dir: 'down', bytes: b.length });
      });
      client.pipe(upstream);
      upstream.pipe(client);
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    self = new CountingProxy(server, (server.address() as net.AddressInfo).port);
    return self;
  }

  get total(): number {
    return this.up + this.down;
  }

  async stop(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise((r) => this.server.close(r));
  }
}
