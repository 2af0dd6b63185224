/**
 * What the page reads and does, as JSON under /api: the same data and code the verbs use. Status,
 * devices and the trash come from roamd over the control API; sessions are listed, searched and
 * shown through the tools' adapters exactly as `roam list --all`, `roam search` and `roam show`
 * do (their exported readers); rm, restore and selective sync run the verbs themselves.
 */
import type { Context, Hono } from 'hono';
import { ErrorCodes, RoamError, isRoamError } from '@roam/core/errors';
import QRCode from 'qrcode';
import type { Io } from '../io.js';
import { call } from '../control/client.js';
import { roamPaths } from '../machine/paths.js';
import { adaptersFor, resolveSession, sessionDir } from '../sessions/index.js';
import { listJsonRows } from '../commands/list.js';
import { RowsCache, parsed } from './rows.js';
import { searchSessions } from '../commands/search.js';
import { rm } from '../commands/rm.js';
import { restore } from '../commands/restore.js';
import { projects } from '../commands/projects.js';
import { conflicts } from '../commands/conflicts.js';
import { exportSession } from '../commands/export.js';
import { shareBundle } from '../commands/share.js';
import type { PairResult } from '../control/pairing.js';
import type { OriginsResult } from '../control/results.js';

/** An Io that keeps what a verb prints: its --json answer. */
function capture(): { io: Io; json: () => unknown } {
  const out: string[] = [];
  return { io: { out: (l) => out.push(l), err: () => {} }, json: () => JSON.parse(out.join('\n') || 'null') };
}

/** A RoamError as the page shows it: its code and message, 400 for bad input, else 500. */
function failure(err: unknown): { status: 400 | 404 | 409 | 500 | 503; body: { code: string; message: string } } {
  if (!isRoamError(err)) return { status: 500, body: { code: 'ROAM_INTERNAL', message: String(err) } };
  const status = err.code === 'ROAM_SESSION_NOT_FOUND' ? 404 : err.code === 'ROAM_NOT_RUNNING' ? 503 : err.code === 'ROAM_SESSION_BUSY' || err.code === 'ROAM_STORE_CONFLICT' ? 409 : err.code === 'ROAM_USAGE' ? 400 : 500;
  return { status, body: { code: err.code, message: err.message } };
}

/** An invitation the page started: its code while it waits, then who joined or why it failed. */
interface Invite {
  code: string | null;
  expiresAt: number | null;
  qr: string | null;
  result: PairResult | null;
  error: { code: string; message: string } | null;
}

export function mountApi(app: Hono, env: NodeJS.ProcessEnv = process.env): void {
  const socket = () => roamPaths(env).socket;
  const route = (fn: (c: Context) => Promise<unknown>) => async (c: Context) => {
    try {
      const r = await fn(c);
      return r instanceof Response ? r : c.json(r);
    } catch (err) {
      const f = failure(err);
      return c.json(f.body, f.status);
    }
  };

  // What moves when a session arrives, grows or goes: each folder's items and bytes as roamd counts them.
  const stamp = async () => JSON.stringify((await call(socket(), 'status')).folders.map((f) => [f.id, f.items, f.bytes]));
  const lists = new RowsCache((tool) => listJsonRows({ all: true, ...(tool ? { tool } : {}) }, { env }), { stamp });
  const from = new RowsCache<OriginsResult>(() => call(socket(), 'origins'), { stamp });
  // Read once as the server starts, so the page's first view is answered from memory.
  void lists.warm().catch(() => {});
  void from.warm().catch(() => {});

  app.get('/api/tools', route(async () => adaptersFor(undefined, { env }).map((a) => a.tool)));
  app.get('/api/status', route(() => call(socket(), 'status')));
  app.get('/api/trash', route(() => call(socket(), 'trash')));
  app.get('/api/projects', route(() => call(socket(), 'projects')));

  app.get('/api/sessions', route(async (c) => {
    const tool = c.req.query('tool') || undefined;
    const project = (c.req.query('project') ?? '').toLowerCase();
    const device = c.req.query('device') ?? '';
    const q = c.req.query('q') ?? '';
    // Which device each session came from (roamd's index; none when roamd is not running).
    const o = await from.get(undefined).catch(() => null);
    const deviceOf = (id: string): string | null => (o && o.sessions[id] !== undefined ? o.devices[o.sessions[id]!] ?? o.sessions[id]! : null);
    const devices = o ? [...new Set(Object.values(o.devices))].sort() : [];
    const keep = (s: { id: string; cwd?: string | null; projectKey: string }) => (!project || `${s.cwd ?? ''} ${s.projectKey}`.toLowerCase().includes(project)) && (!device || deviceOf(s.id) === device);
    if (q.trim()) {
      const { hits, more } = await searchSessions(q, { ...(tool ? { tool } : {}), limit: 200 }, { env });
      return { search: true, more, devices, hits: hits.filter((h) => keep(h.session)).map((h) => ({ ...h, session: { ...h.session, device: deviceOf(h.session.id) } })) };
    }
    const limit = Math.max(1, Math.min(Number(c.req.query('limit')) || 100, 20_000));
    const offset = Math.max(0, Math.floor(Number(c.req.query('offset')) || 0));
    const rows = await lists.get(tool);
    // Unfiltered (the page's first view): `roam list --all --json`'s rows, kept between polls
    // (rows.ts); only the page sent is parsed, to add each session's device.
    const shown = project || device ? rows.map(parsed).filter(keep) : rows;
    const sessions = shown.slice(offset, offset + limit).map((r) => {
      const s = 'json' in r ? parsed(r) : r;
      return { ...s, device: deviceOf(s.id) };
    });
    return { search: false, total: shown.length, offset, devices, sessions };
  }));

  app.get('/api/session/:id', route(async (c) => {
    const { adapter, session } = await resolveSession(adaptersFor(undefined, { env }), c.req.param('id') ?? '');
    const entries = await adapter.show(session.id);
    const cwd = sessionDir(session, env.HOME ?? '/', env);
    const cmd = (argv: readonly string[]) => `cd ${quote(cwd)} && ${argv.map(quote).join(' ')}`;
    const subagents = adapter.subagents?.(session) ?? [];
    return { session, entries, subagents, resume: cmd(adapter.resumeCommand(session.id, { cwd }).argv), fork: cmd(adapter.forkCommand(session.id, { cwd }).argv) };
  }));

  /** `roam export <id> --format md|json` (secrets redacted), as a download. */
  app.get('/api/session/:id/export', async (c) => {
    const format = c.req.query('format') === 'json' ? 'json' : 'md';
    const out: string[] = [];
    try {
      await exportSession(c.req.param('id') ?? '', { format }, { out: (l) => out.push(l), err: () => {} }, { env });
    } catch (err) {
      const f = failure(err);
      return c.json(f.body, f.status);
    }
    const name = `${(c.req.param('id') ?? 'session').replace(/[^\w-]/g, '')}.${format}`;
    return c.body(`${out.join('\n')}\n`, 200, { 'Content-Type': format === 'md' ? 'text/markdown; charset=utf-8' : 'application/json', 'Content-Disposition': `attachment; filename="${name}"` });
  });

  /** `roam share <id>`'s bundle (every file redacted), as a download. */
  app.get('/api/session/:id/share', async (c) => {
    try {
      const { session, data } = await shareBundle(c.req.param('id') ?? '', {}, { env });
      return c.body(new Uint8Array(data), 200, { 'Content-Type': 'application/gzip', 'Content-Disposition': `attachment; filename="roam-${session.id.replace(/[^\w-]/g, '')}.json.gz"` });
    } catch (err) {
      const f = failure(err);
      return c.json(f.body, f.status);
    }
  });

  app.post('/api/session/:id/rm', route(async (c) => {
    const k = capture();
    await rm(c.req.param('id') ?? '', { yes: true, json: true, force: c.req.query('force') === '1' }, k.io, { interactive: false });
    lists.invalidate();
    return k.json();
  }));

  app.get('/api/conflicts', route(async () => {
    const k = capture();
    await conflicts({ json: true }, k.io, env);
    return k.json();
  }));

  app.post('/api/restore/:ref', route(async (c) => {
    const k = capture();
    await restore(c.req.param('ref') ?? '', { json: true }, k.io);
    lists.invalidate();
    return k.json();
  }));

  /** Selective sync: `{folder, name, synced}` turns one project on or off, as `roam projects --only/--all` does. */
  app.post('/api/projects', route(async (c) => {
    const body = (await c.req.json()) as { folder?: unknown; name?: unknown; synced?: unknown };
    if (typeof body.folder !== 'string' || typeof body.name !== 'string' || typeof body.synced !== 'boolean') throw new RoamError(ErrorCodes.USAGE, 'expected {folder: string, name: string, synced: boolean}');
    const rows = await call(socket(), 'projects');
    const names = rows.filter((p) => p.folder === body.folder);
    const on = new Set(names.filter((p) => p.synced).map((p) => p.name));
    if (body.synced) on.add(body.name);
    else on.delete(body.name);
    const k = capture();
    const all = names.every((p) => on.has(p.name));
    lists.invalidate();
    await projects(all ? { folder: body.folder, all: true, json: true } : { folder: body.folder, only: [...on], force: true, json: true }, k.io);
    return k.json();
  }));

  let invite: Invite | null = null;
  app.get('/api/pair', route(async () => invite));
  app.post('/api/pair', route(async () => {
    if (invite && !invite.result && !invite.error) return invite;
    const current: Invite = { code: null, expiresAt: null, qr: null, result: null, error: null };
    invite = current;
    let first: () => void = () => {};
    const got = new Promise<void>((resolve) => (first = resolve));
    call(socket(), 'pair', { timeout: 600 }, (e) => {
      if ('code' in e) {
        current.code = e.code;
        current.expiresAt = e.expiresAt;
        void QRCode.toString(e.code, { type: 'svg', margin: 2 }).then((svg) => (current.qr = svg)).finally(first);
      }
    }).then((r) => (current.result = r), (err) => (current.error = failure(err).body)).finally(first);
    await got;
    return current;
  }));
}

/** A word as a POSIX shell reads it back. */
function quote(s: string): string {
  return /^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}
