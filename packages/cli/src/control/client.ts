/** `roam`'s side of the control socket. */
import { createConnection } from 'node:net';
import { RoamError, type ErrorCode } from '@roam/core/errors';
import type { ControlMethod, EventOf, ParamsOf, ResultOf } from './methods.js';
import { CONTROL_VERSION, type Response } from './protocol.js';
import { ownedSocket } from './owner.js';

/** A method's params (optional when it has none required) and, for a streaming method, what receives its events. */
export type CallArgs<M extends ControlMethod> = {} extends ParamsOf<M>
  ? [params?: ParamsOf<M>, onEvent?: (event: EventOf<M>) => void]
  : [params: ParamsOf<M>, onEvent?: (event: EventOf<M>) => void];

let nextId = 1;

/**
 * Sends one request; `onEvent` receives the events of a streaming answer. Resolves with the
 * method's result (control/methods.ts), rejects with the daemon's RoamError (one of the method's
 * `errors`), or ROAM_NOT_RUNNING when no daemon answers.
 */
export function call<M extends ControlMethod>(socket: string, method: M, ...[params = {}, onEvent]: CallArgs<M>): Promise<ResultOf<M>> {
  const id = nextId++;
  return ownedSocket(socket).then(() => new Promise<ResultOf<M>>((resolve, reject) => {
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
        if ('event' in r) onEvent?.(r.event as EventOf<M>);
        else if (r.ok) finish(() => resolve(r.result as ResultOf<M>));
        else finish(() => reject(new RoamError(r.error.code as ErrorCode, r.error.message)));
      }
    });
    s.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT' || err.code === 'ECONNREFUSED') {
        finish(() => reject(new RoamError('ROAM_NOT_RUNNING', `roamd is not running (no answer on ${socket}); start it with \`roamd\` or \`roam service install\``)));
      } else finish(() => reject(new RoamError('ROAM_INTERNAL', `control socket ${socket}: ${err.message}`)));
    });
    s.on('close', () => finish(() => reject(new RoamError('ROAM_INTERNAL', 'roamd closed the control connection without an answer'))));
  }));
}
