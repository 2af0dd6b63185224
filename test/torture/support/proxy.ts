/**
 * A TCP proxy on 127.0.0.1 that counts, per connection, the bytes each way, and keeps the first
 * bytes of each direction: what an outsider's socket received is exactly what this proxy handed
 * it. Also a way to replay recorded bytes at a listener and see what comes back.
 */
import { connect, createServer, type Server, type Socket } from 'node:net';
import { onCleanup } from './cleanup.js';

const KEEP = 256 * 1024;

export interface ProxiedConnection {
  /** Bytes the target sent to the client (what the client's socket received). */
  toClient: number;
  fromClient: number;
  /** The first KEEP bytes of each direction. */
  received: Buffer;
  sent: Buffer;
  closed: boolean;
}

export class CountingProxy {
  readonly connections: ProxiedConnection[] = [];
  private readonly sockets = new Set<Socket>();

  private constructor(
    private readonly server: Server,
    readonly port: number,
  ) {}

  /** Listens on 127.0.0.1 and forwards to `host:port`. */
  static async start(host: string, port: number): Promise<CountingProxy> {
    let self: CountingProxy | null = null;
    const server = createServer((client) => {
      const c: ProxiedConnection = { toClient: 0, fromClient: 0, received: Buffer.alloc(0), sent: Buffer.alloc(0), closed: false };
      self!.connections.push(c);
      const upstream = connect({ host, port });
      for (const s of [client, upstream]) self!.sockets.add(s);
      client.on('data', (d: Buffer) => {
        c.fromClient += d.length;
        if (c.sent.length < KEEP) c.sent = Buffer.concat([c.sent, d]).subarray(0, KEEP);
        upstream.write(d);
      });
      upstream.on('data', (d: Buffer) => {
        c.toClient += d.length;
        if (c.received.length < KEEP) c.received = Buffer.concat([c.received, d]).subarray(0, KEEP);
        client.write(d);
      });
      const end = () => {
        c.closed = true;
        client.destroy();
        upstream.destroy();
        self!.sockets.delete(client);
        self!.sockets.delete(upstream);
      };
      for (const s of [client, upstream]) {
        s.on('error', end);
        s.on('close', end);
      }
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    self = new CountingProxy(server, (server.address() as { port: number }).port);
    const p = self;
    onCleanup(() => p.close());
    return self;
  }

  get address(): string {
    return `/ip4/127.0.0.1/tcp/${this.port}`;
  }

  stats(): { connections: number; maxBytesToClient: number; totalBytesToClient: number } {
    return {
      connections: this.connections.length,
      maxBytesToClient: Math.max(0, ...this.connections.map((c) => c.toClient)),
      totalBytesToClient: this.connections.reduce((n, c) => n + c.toClient, 0),
    };
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

/**
 * Sends `bytes` to `host:port` as one client would (in the recorded chunks' order, all at once)
 * and collects what comes back until the other side closes or `timeoutMs` passes.
 */
export function replay(host: string, port: number, bytes: Buffer, timeoutMs = 10_000): Promise<{ received: Buffer; closedByServer: boolean }> {
  return new Promise((resolve) => {
    const s = connect({ host, port });
    const chunks: Buffer[] = [];
    let closedByServer = false;
    const timer = setTimeout(() => s.destroy(), timeoutMs);
    s.on('connect', () => s.write(bytes));
    s.on('data', (d: Buffer) => chunks.push(d));
    s.on('end', () => (closedByServer = true));
    s.on('error', () => (closedByServer = true));
    s.on('close', () => {
      clearTimeout(timer);
      resolve({ received: Buffer.concat(chunks), closedByServer });
    });
  });
}
