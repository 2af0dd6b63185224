/**
 * The web page's guard, as strict as the control socket's directory: a token per launch (never on a
 * command line: `roam ui` writes it into a 0600 file in ROAM_HOME that redirects to the tokened
 * URL), exchanged once per browser for an HttpOnly SameSite=Strict cookie; every request is refused
 * (403) without that cookie, with a Host header other than 127.0.0.1:<port> or localhost:<port>
 * (DNS rebinding), or with an Origin other than the page's own (another site's page in the same
 * browser). A request that changes something must carry the page's Origin.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { MiddlewareHandler } from 'hono';
import { getCookie, setCookie } from 'hono/cookie';

export const COOKIE = 'roam_ui';

export interface Guard {
  /** The launch's token: only in the open file and the URL it redirects to. */
  readonly token: string;
  /** Set once the server listens: the port the Host header must name. */
  port: number;
  readonly middleware: MiddlewareHandler;
}

function same(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

export function makeGuard(): Guard {
  const token = randomBytes(32).toString('base64url');
  // What the browser holds: another secret than the token (the cookie never leaves the browser's jar); both end with this launch.
  const session = randomBytes(32).toString('base64url');
  const guard: Guard = {
    token,
    port: 0,
    middleware: async (c, next) => {
      const hosts = [`127.0.0.1:${guard.port}`, `localhost:${guard.port}`];
      const host = c.req.header('host') ?? '';
      if (!hosts.includes(host)) return c.text('forbidden: wrong Host header', 403);
      const origin = c.req.header('origin');
      if (origin !== undefined && origin !== `http://${host}`) return c.text('forbidden: another origin', 403);
      const method = c.req.method;
      if (method !== 'GET' && method !== 'HEAD' && origin === undefined) return c.text('forbidden: no Origin on a change', 403);
      const url = new URL(c.req.url);
      if (url.pathname === '/auth') {
        const t = url.searchParams.get('token') ?? '';
        if (!same(t, token)) return c.text('forbidden: wrong token (run `roam ui` again)', 403);
        setCookie(c, COOKIE, session, { httpOnly: true, sameSite: 'Strict', path: '/' });
        // Not a redirect: a navigation that began in the open file (another site, file://) does not
        // carry a Strict cookie through its redirects; one this page starts does.
        c.header('Referrer-Policy', 'no-referrer');
        return c.html('<!doctype html><meta charset="utf-8"><meta http-equiv="refresh" content="0;url=/"><title>roam</title><a href="/">Open roam</a>');
      }
      if (!same(getCookie(c, COOKIE) ?? '', session)) return c.text('forbidden: open the page with `roam ui`', 403);
      await next();
      c.header('Cache-Control', 'no-store');
      c.header('X-Frame-Options', 'DENY');
      c.header('X-Content-Type-Options', 'nosniff');
      c.header('Referrer-Policy', 'no-referrer');
      c.header('Content-Security-Policy', "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'; form-action 'self'");
    },
  };
  return guard;
}
