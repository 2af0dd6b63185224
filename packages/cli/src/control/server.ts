/**
 * roamd's side of the control socket. One JSON request per line; each gets one response line,
 * or, for streaming methods, event lines until the client hangs up.
 */
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { chmod, mkdir, unlink } from 'node:fs/promises';
import { dirname } from 'node:path';
import { RoamError, isRoamError } from '@roam/core/errors';
import type { Handlers } from './methods.js';
import { CONTROL_VERSION, type Request, type Response } from './protocol.js';

/** A handler as the dispatcher calls it, once the method's name off the wire is known to be one of them. */
type AnyHandler = (params: Record<string, unknown>, stream: (event: unknown) => boolean, closed: Promise<void>) => Promise<unknown>;

const MAX_REQUEST_BYTES = 64 * 1024;

/** Whether something answers on the socket (another roamd). */
function answers(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createConnection(path);
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

export class ControlServer {
  private readonly server: Server;
  private readonly sockets = new Set<Socket>();

  private constructor(server: Server) {
    this.server = server;
  }

  static async listen(path: string, handlers: Handlers): Promise<ControlServer> {
    await mkdir(dirname(path), { recursive: true, mode: 0o700 });
    if (await answers(path)) throw new RoamError('ROAM_DAEMON_RUNNING', `another roamd is already running (control socket ${path})`);
    await unlink(path).catch(() => undefined);
    const server = createServer();
    const cs = new ControlServer(server);
    server.on('connection', (socket) => cs.serve(socket, handlers));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(path, () => resolve());
    });
    await chmod(path, 0o600);
    return cs;
  }

  private serve(socket: Socket, handlers: Handlers): void {
    this.sockets.add(socket);
    let closedResolve!: () => void;
    const closed = new Promise<void>((r) => (closedResolve = r));
    socket.on('close', () => {
      this.sockets.delete(socket);
      closedResolve();
    });
    socket.on('error', () => socket.destroy());
    let buf = '';
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      buf += chunk;
      if (buf.length > MAX_REQUEST_BYTES) {
        socket.destroy();
        return;
      }
      let nl: number;
      while ((nl = buf.indexOf('\n')) !== -1) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        void this.answer(line, socket, handlers, closed);
      }
    });
  }

  private async answer(line: string, socket: Socket, handlers: Handlers, closed: Promise<void>): Promise<void> {
    const send = (r: Response) => !socket.destroyed && socket.write(`${JSON.stringify(r)}\n`);
    let req: Request;
    try {
      req = JSON.parse(line) as Request;
      if (typeof req !== 'object' || req === null || typeof req.id !== 'number' || typeof req.method !== 'string') throw new Error('not a request');
    } catch {
      send({ v: CONTROL_VERSION, id: -1, ok: false, error: { code: 'ROAM_CONTROL_MALFORMED', message: 'malformed control request' } });
      return;
    }
    if (req.v !== CONTROL_VERSION) {
      send({ v: CONTROL_VERSION, id: req.id, ok: false, error: { code: 'ROAM_CONTROL_VERSION', message: `roamd speaks control API ${CONTROL_VERSION}, the command sent ${req.v}: run the same roam version for both` } });
      return;
    }
    // Own properties only: a method name off the wire never reaches Object.prototype.
    const handler = Object.hasOwn(handlers, req.method) ? (handlers[req.method as keyof Handlers] as unknown as AnyHandler) : undefined;
    if (!handler) {
      send({ v: CONTROL_VERSION, id: req.id, ok: false, error: { code: 'ROAM_CONTROL_UNKNOWN', message: `roamd does not know "${req.method}"` } });
      return;
    }
    try {
      const result = await handler(req.params ?? {}, (event) => send({ v: CONTROL_VERSION, id: req.id, event }), closed);
      send({ v: CONTROL_VERSION, id: req.id, ok: true, result });
    } catch (err) {
      const error = isRoamError(err) ? { code: err.code, message: err.message } : { code: 'ROAM_INTERNAL', message: String(err instanceof Error ? err.message : err) };
      send({ v: CONTROL_VERSION, id: req.id, ok: false, error });
    }
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
