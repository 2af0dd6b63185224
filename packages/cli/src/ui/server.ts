/**
 * The web page's server (`roam ui`): Hono on Node's http, on 127.0.0.1 only, everything behind the
 * guard (guard.ts). The page is static HTML, CSS and one script, all from this package (assets/):
 * nothing from another host, so it works offline.
 */
import { Hono } from 'hono';
import { serve } from '@hono/node-server';
import type { AddressInfo } from 'node:net';
import { makeGuard } from './guard.js';
import { mountApi } from './api.js';
import { PAGE, STYLE } from './assets/page.js';
import { SCRIPT } from './assets/app.js';

export interface UiServer {
  readonly port: number;
  /** The tokened URL: what the open file redirects to (never printed). */
  readonly authUrl: string;
  /** The URL without the token. */
  readonly url: string;
  close(): Promise<void>;
}

export function startUi(opts: { port?: number; env?: NodeJS.ProcessEnv } = {}): Promise<UiServer> {
  const guard = makeGuard();
  const app = new Hono();
  app.use('*', guard.middleware);
  app.get('/', (c) => c.html(PAGE));
  app.get('/app.css', (c) => c.body(STYLE, 200, { 'Content-Type': 'text/css; charset=utf-8' }));
  app.get('/app.js', (c) => c.body(SCRIPT, 200, { 'Content-Type': 'text/javascript; charset=utf-8' }));
  app.get('/favicon.ico', (c) => c.body(null, 204));
  mountApi(app, opts.env);
  app.notFound((c) => c.json({ code: 'ROAM_USAGE', message: 'no such page' }, 404));
  return new Promise((resolve, reject) => {
    const server = serve({ fetch: app.fetch, port: opts.port ?? 0, hostname: '127.0.0.1' }, (info: AddressInfo) => {
      guard.port = info.port;
      const url = `http://127.0.0.1:${info.port}/`;
      resolve({
        port: info.port,
        url,
        authUrl: `${url}auth?token=${guard.token}`,
        close: () => new Promise<void>((done) => {
          if ('closeAllConnections' in server) server.closeAllConnections();
          server.close(() => done());
        }),
      });
    });
    server.once('error', reject);
  });
}
