/**
 * `roam share <session> [--out <file>] [--tool <t>] [--json]`: the session in one portable file
 * (src/share/bundle.ts: gzipped JSON, a manifest with each file's sha256), every file redacted. The
 * default name is `roam-<id>.json.gz` in the current directory; an existing file is never
 * overwritten. `roam import <file>` on another machine (or for another person) brings it back.
 */
import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { ErrorCodes, RoamError } from '@roam/core/errors';
import type { Io } from '../io.js';
import { readConfigFile, defaultDeviceName } from '../machine/config.js';
import { roamPaths } from '../machine/paths.js';
import { adaptersFor, resolveSession, type SessionContext } from '../sessions/index.js';
import type { SessionInfo } from '../sessions/types.js';
import { encodeBundle, makeBundle, type Bundle } from '../share/bundle.js';
import { toolNamed } from '../tools/registry.js';
import { describeCounts } from '../share/redact.js';

export interface ShareFlags {
  out?: string;
  tool?: string;
  json?: boolean;
}

/** The name this device goes by: config.json's `name`, else the host name. */
export function deviceName(env: NodeJS.ProcessEnv): string {
  try {
    return readConfigFile(roamPaths(env).configFile).name ?? defaultDeviceName();
  } catch {
    return defaultDeviceName();
  }
}

/** The bundle `roam share` writes for a session (the page's "share bundle" download too): its bytes and manifest. */
export async function shareBundle(id: string, flags: { tool?: string }, ctx: SessionContext = {}): Promise<{ session: SessionInfo; data: Buffer; bundle: Bundle }> {
  const env = ctx.env ?? process.env;
  const { adapter, session } = await resolveSession(adaptersFor(flags.tool, { env }), id);
  const bundle = makeBundle(session, {
    sourceDevice: deviceName(env),
    ...(ctx.now !== undefined ? { now: ctx.now } : {}),
    ...(adapter.readTranscript ? { readTranscript: (s: SessionInfo) => adapter.readTranscript!(s) } : {}),
    parts: toolNamed(session.tool)?.bundleParts?.(session) ?? [],
  });
  return { session, bundle, data: encodeBundle(bundle) };
}

export async function share(id: string, flags: ShareFlags, io: Io, ctx: SessionContext = {}): Promise<void> {
  const { session, bundle, data } = await shareBundle(id, flags, ctx);
  const file = resolve(ctx.cwd ?? process.cwd(), flags.out ?? `roam-${session.id}.json.gz`);
  try {
    writeFileSync(file, data, { flag: 'wx', mode: 0o600 });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') throw new RoamError(ErrorCodes.USAGE, `${file} exists already (--out <file> for another name)`, { file });
    throw err;
  }
  const m = bundle.manifest;
  if (flags.json) {
    io.out(JSON.stringify({ file, bytes: data.length, manifest: m }, null, 2));
    return;
  }
  io.out(`wrote ${file} (${data.length} bytes): ${m.tool} session ${m.sessionId}${m.title ? ` "${m.title}"` : ''}, ${m.files.length} file${m.files.length === 1 ? '' : 's'}`);
  io.out(describeCounts(m.redactions));
  io.out('redaction is best effort: read the session (roam export <id>) before you give it away');
}
