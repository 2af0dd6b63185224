/** `roam`'s side of the control socket. */
import { createConnection } from 'node:net';
import { RoamError, type ErrorCode } from '@roam/core/errors';
import { CONTROL_VERSION, type Response } from './protocol.js';

let nextId = 1;

/**
 * Sends one request; `onEvent` receives the events of a streaming answer. Resolves with the
 * result, rejects with the daemon's RoamError, or ROAM_NOT_RUNNING when no daemon answers.
 */
export function call<T = unknown>(socket: string, method: string, params: Record<string, unknown> = {}, onEvent?: (e: unknown) => void): Promise<T> {
  const id = nextId++;
  return new Promise<T>((resolve, reject) => {
    const s = createConnection(socket);
    let buf = '';
    let done = false;
    const finish = (fn: () => void) => {
      if (done) return;
      done = true;
      s.destroy();
      fn();
    };
    s.setEncoding('utf8');
    s.once('connect', () => s.write(`${JSON.stringify({ v: CONTROL_VERSION, id, method, params })}\n`));
    s.on('data', (chunk: string) => {
      buf += chunk;
      let nl: number;
      while ((nl = buf.indexOf('\n')) !== -1) {
        const r = JSON.parse(buf.slice(0, nl)) as Response;
        buf = buf.slice(nl + 1);
        if ('event' in r) onEvent?.(r.event);
        else if (r.ok) finish(() => resolve(r.result as T));
        else finish(() => reject(new RoamError(r.error.code as ErrorCode, r.error.message)));
      }
    });
    s.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT' || err.code === 'ECONNREFUSED') {
        finish(() => reject(new RoamError('ROAM_NOT_RUNNING', `roamd is not running (no answer on ${socket}); start it with \`roamd\` or \`roam service install\``)));
      } else finish(() => reject(new RoamError('ROAM_INTERNAL', `control socket ${socket}: ${err.message}`)));
    });
    s.on('close', () => finish(() => reject(new RoamError('ROAM_INTERNAL', 'roamd closed the control connection without an answer'))));
  });
}
