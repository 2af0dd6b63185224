/**
 * `roam ui [--port <n>] [--no-open] [--json]`: the local web page (packages/cli/src/ui/): devices and
 * sync progress, every tool's sessions (filter, search, read, rm, restore), selective sync, pairing.
 * Served by this process, beside roamd, on 127.0.0.1 only, until interrupted. The launch's token is
 * never on a command line (another local user reads those): it is written into a 0600 file,
 * ROAM_HOME/ui/open.html, that redirects to the tokened URL, and that file is what the browser opens
 * (as Jupyter does). --no-open: print the file and the URL (without the token) and open nothing.
 * --json: one line `{"url", "open", "port"}` once the page is served.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync, chmodSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ErrorCodes, RoamError } from '@roam/core/errors';
import type { Io } from '../io.js';
import { roamPaths } from '../machine/paths.js';
import { startUi } from '../ui/server.js';

export interface UiFlags {
  port?: number;
  open?: boolean;
  json?: boolean;
}

/** The redirect file's text: the tokened URL in a meta refresh and a link (no script needed). */
function redirect(url: string): string {
  const u = url.replace(/&/g, '&amp;').replace(/"/g, '&quot;');
  return `<!doctype html>\n<html><head><meta charset="utf-8"><meta http-equiv="refresh" content="0;url=${u}"><title>roam</title></head>\n<body><p><a href="${u}">Open roam</a></p></body></html>\n`;
}

export async function ui(flags: UiFlags, io: Io, opts: { signal?: AbortSignal } = {}): Promise<void> {
  if (flags.port !== undefined && (!Number.isInteger(flags.port) || flags.port < 0 || flags.port > 65535)) throw new RoamError(ErrorCodes.USAGE, `--port: not a port: ${flags.port}`);
  const dir = join(roamPaths().config, 'ui');
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  chmodSync(dir, 0o700);
  const server = await startUi({ ...(flags.port !== undefined ? { port: flags.port } : {}) });
  const file = join(dir, 'open.html');
  // A fresh file each launch, created 0600 (never widened from an older one).
  rmSync(file, { force: true });
  writeFileSync(file, redirect(server.authUrl), { mode: 0o600, flag: 'wx' });
  if (flags.json) io.out(JSON.stringify({ url: server.url, open: file, port: server.port }));
  else {
    io.out(`roam ui: serving ${server.url} (127.0.0.1 only; Ctrl-C stops it)`);
    io.out(`open ${file} in a browser (it holds this launch's token)`);
  }
  if (flags.open !== false) {
    const opener = process.platform === 'darwin' ? 'open' : 'xdg-open';
    const child = spawn(opener, [pathToFileURL(file).href], { stdio: 'ignore', detached: true });
    child.on('error', () => io.err(`roam: could not run ${opener}: open ${file} yourself`));
    child.unref();
  }
  await new Promise<void>((resolve) => {
    const stop = () => resolve();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
    opts.signal?.addEventListener('abort', stop);
  });
  rmSync(file, { force: true });
  await server.close();
}
