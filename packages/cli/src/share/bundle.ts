/**
 * Session bundles: one session in one portable file, for `roam share` and `roam import`.
 *
 * A bundle is gzip-compressed JSON:
 *
 *   { "manifest": { "format": "roam-session-bundle", "version": 1, "tool", "sessionId", "title",
 *                   "created", "lastActivity", "exported", "sourceDevice", "cwd", "gitBranch",
 *                   "redacted", "redactions": {kind: n},
 *                   "files": [{ "name", "bytes", "sha256" }] },
 *     "files": { "<name>": "<base64 of the bytes>" } }
 *
 * `session.jsonl` is the transcript; a Claude Code session may add `subagents/…` and
 * `tool-results/…` (the folder `<key>/<id>/` beside its transcript), a Gemini CLI session
 * `subagents/…` (its sub-agents' sessions, `chats/<id>/`), a Copilot CLI session the text files of
 * its `session-state/<id>/` directory the CLI's own fork copies (`workspace.yaml`, `plan.md`,
 * `checkpoints/…`, `files/…`, `research/…`; not its per-machine `session.db`, lock files,
 * `client-metadata.json` or `rewind-file-snapshots/`). Every file is redacted
 * (redact.ts) before it is hashed. The hashes catch damage and tampering with a file; they are not a
 * signature (whoever can edit a file can edit the manifest too).
 *
 * Reading a bundle checks, before anything is written: the format and version, that every name is
 * a relative path inside the bundle (no `..`, no absolute path, no NUL, no backslash), one of the
 * known files or under the known folders (which of them a tool takes, its importer checks), that
 * the files are exactly the manifest's, and every hash.
 */
import { createHash } from 'node:crypto';
import { lstatSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { inflateCapped, MAX_BUNDLE_FILE_BYTES, tooLarge } from './inflate.js';
import { ErrorCodes, RoamError } from '@roam/core/errors';
import type { SessionInfo, ToolName } from '../sessions/types.js';
import { mergeCounts, redactFileContent, type RedactionCounts } from './redact.js';

export const BUNDLE_FORMAT = 'roam-session-bundle';
export const BUNDLE_VERSION = 1;
/** The transcript's name in a bundle. */
export const SESSION_FILE = 'session.jsonl';
/** The folders a bundle may hold besides the transcript (which tool's files each is: sessionFiles). */
export const BUNDLE_FOLDERS = ['subagents', 'tool-results', 'checkpoints', 'files', 'research'] as const;
/** The single files a bundle may hold besides the transcript (Copilot CLI's session directory). */
export const BUNDLE_TOP_FILES = ['workspace.yaml', 'plan.md'] as const;
/** Copilot CLI: what of `session-state/<id>/` goes into a bundle besides events.jsonl. */
export { MAX_BUNDLE_BYTES, MAX_BUNDLE_FILE_BYTES } from './inflate.js';

export interface BundleFile {
  readonly name: string;
  readonly bytes: number;
  readonly sha256: string;
}

export interface Manifest {
  readonly format: typeof BUNDLE_FORMAT;
  readonly version: number;
  readonly tool: ToolName;
  readonly sessionId: string;
  readonly title: string | null;
  /** ISO time of the session's first line with a timestamp, or null. */
  readonly created: string | null;
  readonly lastActivity: string;
  /** When the bundle was made. */
  readonly exported: string;
  readonly sourceDevice: string;
  readonly cwd: string | null;
  readonly gitBranch: string | null;
  readonly redacted: boolean;
  readonly redactions: RedactionCounts;
  readonly files: readonly BundleFile[];
}

export interface Bundle {
  readonly manifest: Manifest;
  /** name → bytes, in the manifest's order. */
  readonly files: ReadonlyMap<string, Buffer>;
}

export function sha256(b: Buffer): string {
  return createHash('sha256').update(b).digest('hex');
}

/** A file or folder of a session that a bundle carries besides the transcript, by its name in the bundle. */
export interface BundlePart {
  readonly name: string;
  readonly path: string;
  /** A folder: its regular files, walked; else a file, taken when it is a regular file. */
  readonly folder: boolean;
}

/**
 * The files of a session: its transcript, and what its tool's `bundleParts` names (tools/<tool>/index.ts):
 * regular files, and the regular files of folders. Symlinks and hidden files are left out everywhere.
 */
export function sessionFiles(session: SessionInfo, parts: readonly BundlePart[] = []): Array<{ name: string; path: string }> {
  const out = [{ name: SESSION_FILE, path: session.file }];
  for (const p of parts) {
    if (p.folder) for (const rel of walk(p.path)) out.push({ name: `${p.name}/${rel}`, path: join(p.path, ...rel.split('/')) });
    else if (lstatSync(p.path, { throwIfNoEntry: false })?.isFile()) out.push({ name: p.name, path: p.path });
  }
  return out;
}

/** Regular files under `dir`, as relative POSIX paths, sorted; symlinks and hidden files are skipped. */
function walk(dir: string, prefix = ''): string[] {
  let names: string[];
  try {
    names = readdirSync(dir).sort();
  } catch {
    return [];
  }
  const out: string[] = [];
  for (const n of names) {
    if (n.startsWith('.')) continue;
    const p = join(dir, n);
    const st = lstatSync(p, { throwIfNoEntry: false });
    if (!st || st.isSymbolicLink()) continue;
    if (st.isDirectory()) out.push(...walk(p, `${prefix}${n}/`));
    else if (st.isFile()) out.push(`${prefix}${n}`);
  }
  return out;
}

/** Redacts one file's bytes (text files; a file with NUL bytes is binary and kept as it is). */
export function redactBytes(name: string, bytes: Buffer, counts: RedactionCounts): Buffer {
  if (bytes.includes(0)) return bytes;
  const text = bytes.toString('utf8');
  const out = redactFileContent(name, text, counts);
  return out === text ? bytes : Buffer.from(out, 'utf8');
}

/** The first `timestamp` in the first lines of a JSONL file, or null. */
export function firstTimestamp(bytes: Buffer): string | null {
  let start = 0;
  for (let i = 0; i < 500 && start < bytes.length; i++) {
    let end = bytes.indexOf(0x0a, start);
    if (end < 0) end = bytes.length;
    try {
      const o = JSON.parse(bytes.toString('utf8', start, end)) as { timestamp?: unknown };
      if (typeof o.timestamp === 'string' && Number.isFinite(Date.parse(o.timestamp))) return new Date(Date.parse(o.timestamp)).toISOString();
    } catch {
      // not a line of JSON
    }
    start = end + 1;
  }
  return null;
}

export interface MakeBundleOptions {
  readonly sourceDevice: string;
  /** Default true. */
  readonly redact?: boolean;
  readonly now?: number;
  /** Reads a session's transcript (default: the file; the Codex adapter decompresses `.zst`). */
  readonly readTranscript?: (session: SessionInfo) => Buffer;
  /** The session's files besides its transcript (its tool's `bundleParts`). */
  readonly parts?: readonly BundlePart[];
}

/** Builds the bundle of a session (files read, redacted, hashed). */
export function makeBundle(session: SessionInfo, opts: MakeBundleOptions): Bundle {
  const redact = opts.redact ?? true;
  const counts: RedactionCounts = {};
  const files = new Map<string, Buffer>();
  const list: BundleFile[] = [];
  let created: string | null = null;
  for (const f of sessionFiles(session, opts.parts)) {
    const raw = f.name === SESSION_FILE && opts.readTranscript ? opts.readTranscript(session) : readFileSync(f.path);
    if (f.name === SESSION_FILE) created = firstTimestamp(raw);
    const per: RedactionCounts = {};
    const bytes = redact ? redactBytes(f.name, raw, per) : raw;
    mergeCounts(counts, per);
    files.set(f.name, bytes);
    list.push({ name: f.name, bytes: bytes.length, sha256: sha256(bytes) });
  }
  const titleCounts: RedactionCounts = {};
  const title = session.title === null || !redact ? session.title : redactFileContent('title.txt', session.title, titleCounts);
  const manifest: Manifest = {
    format: BUNDLE_FORMAT,
    version: BUNDLE_VERSION,
    tool: session.tool,
    sessionId: session.id,
    title,
    created,
    lastActivity: session.lastActivity,
    exported: new Date(opts.now ?? Date.now()).toISOString(),
    sourceDevice: opts.sourceDevice,
    cwd: session.cwd,
    gitBranch: session.gitBranch,
    redacted: redact,
    redactions: counts,
    files: list,
  };
  return { manifest, files };
}

/** The bundle as the bytes of its file. */
export function encodeBundle(b: Bundle): Buffer {
  const files: Record<string, string> = {};
  for (const [name, bytes] of b.files) files[name] = bytes.toString('base64');
  return gzipSync(Buffer.from(JSON.stringify({ manifest: b.manifest, files }), 'utf8'));
}

function invalid(message: string, details?: Record<string, unknown>): RoamError {
  return new RoamError(ErrorCodes.BUNDLE_INVALID, message, details);
}

/**
 * Checks one name of a bundle: a relative POSIX path, each segment a plain name, `session.jsonl`,
 * one of BUNDLE_TOP_FILES, or under one of the known folders. Throws ROAM_PATH_ESCAPE (`..`, absolute) or ROAM_PATH_INVALID.
 */
export function checkName(name: unknown): string {
  if (typeof name !== 'string' || !name) throw new RoamError(ErrorCodes.PATH_INVALID, `bundle file name ${JSON.stringify(name)} is not a name`);
  if (name.includes('\0')) throw new RoamError(ErrorCodes.PATH_INVALID, `bundle file name ${JSON.stringify(name)} holds a NUL character`, { name });
  if (name.startsWith('/') || name.startsWith('\\') || /^[A-Za-z]:/.test(name)) {
    throw new RoamError(ErrorCodes.PATH_ESCAPE, `bundle file name ${JSON.stringify(name)} is an absolute path`, { name });
  }
  if (name.includes('\\')) throw new RoamError(ErrorCodes.PATH_INVALID, `bundle file name ${JSON.stringify(name)} holds a backslash`, { name });
  const segs = name.split('/');
  if (segs.includes('..')) throw new RoamError(ErrorCodes.PATH_ESCAPE, `bundle file name ${JSON.stringify(name)} leaves the bundle (..)`, { name });
  if (segs.some((s) => s === '' || s === '.' || s.length > 255) || name.length > 1024) {
    throw new RoamError(ErrorCodes.PATH_INVALID, `bundle file name ${JSON.stringify(name)} is not a plain relative path`, { name });
  }
  if (name !== SESSION_FILE && !(BUNDLE_TOP_FILES as readonly string[]).includes(name) && !(segs.length > 1 && (BUNDLE_FOLDERS as readonly string[]).includes(segs[0]!))) {
    throw new RoamError(ErrorCodes.PATH_INVALID, `bundle file name ${JSON.stringify(name)} is not ${SESSION_FILE} nor under ${BUNDLE_FOLDERS.join('/ or ')}/ (nor ${BUNDLE_TOP_FILES.join(' or ')})`, { name });
  }
  return name;
}

const isStr = (v: unknown): v is string => typeof v === 'string';
const strOrNull = (v: unknown): v is string | null => v === null || typeof v === 'string';

/**
 * Reads and verifies a bundle's bytes (`isTool`: whether roam knows the manifest's tool; the
 * registry's, tools/registry.ts, for `roam import`). Throws ROAM_BUNDLE_INVALID, ROAM_PATH_ESCAPE /
 * ROAM_PATH_INVALID, ROAM_BUNDLE_HASH_MISMATCH, ROAM_BUNDLE_TOO_LARGE (past the caps of share/inflate.ts,
 * found before the bundle is inflated whole).
 */
export async function decodeBundle(data: Buffer, isTool: (name: string) => boolean = () => true): Promise<Bundle> {
  const json = (await inflateCapped(data)).toString('utf8');
  let doc: unknown;
  try {
    doc = JSON.parse(json);
  } catch {
    throw invalid('not a roam session bundle (not JSON inside)');
  }
  const d = doc as { manifest?: Record<string, unknown>; files?: unknown } | null;
  const m = d?.manifest;
  if (!m || typeof m !== 'object' || m.format !== BUNDLE_FORMAT) throw invalid('not a roam session bundle (no manifest)');
  if (m.version !== BUNDLE_VERSION) {
    throw invalid(`bundle format version ${String(m.version)} is not ${BUNDLE_VERSION} (made by ${typeof m.version === 'number' && m.version > BUNDLE_VERSION ? 'a newer' : 'another'} roam)`, { version: m.version });
  }
  if (!isStr(m.tool) || !isTool(m.tool)) throw invalid(`bundle of an unknown tool: ${String(m.tool)}`);
  if (!isStr(m.sessionId) || !/^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/.test(m.sessionId)) throw invalid(`bundle's session id ${JSON.stringify(m.sessionId)} is not an id`);
  if (!strOrNull(m.title) || !strOrNull(m.created) || !isStr(m.lastActivity) || !isStr(m.exported) || !isStr(m.sourceDevice) || !strOrNull(m.cwd) || !strOrNull(m.gitBranch) || typeof m.redacted !== 'boolean') {
    throw invalid('bundle manifest: a field is missing or of the wrong type');
  }
  if (!Array.isArray(m.files) || !m.files.length) throw invalid('bundle manifest lists no files');
  const list: BundleFile[] = [];
  const seen = new Set<string>();
  for (const f of m.files as Array<Record<string, unknown>>) {
    const name = checkName(f?.name);
    if (seen.has(name)) throw invalid(`bundle manifest lists ${name} twice`);
    seen.add(name);
    if (!isStr(f.sha256) || !/^[0-9a-f]{64}$/.test(f.sha256) || typeof f.bytes !== 'number') throw invalid(`bundle manifest: ${name} has no sha256 or size`);
    if (f.bytes > MAX_BUNDLE_FILE_BYTES) throw tooLarge(name, MAX_BUNDLE_FILE_BYTES);
    list.push({ name, bytes: f.bytes, sha256: f.sha256 });
  }
  if (!seen.has(SESSION_FILE)) throw invalid(`bundle holds no ${SESSION_FILE}`);
  const raw = d.files;
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) throw invalid('bundle holds no files');
  for (const name of Object.keys(raw)) {
    if (!seen.has(name)) {
      checkName(name);
      throw invalid(`bundle holds ${name}, which its manifest does not list`, { name });
    }
  }
  const files = new Map<string, Buffer>();
  for (const f of list) {
    const b64 = (raw as Record<string, unknown>)[f.name];
    if (!isStr(b64)) throw invalid(`bundle lacks ${f.name}, which its manifest lists`, { name: f.name });
    if (b64.length > Math.ceil(MAX_BUNDLE_FILE_BYTES / 3) * 4) throw tooLarge(f.name, MAX_BUNDLE_FILE_BYTES);
    const bytes = Buffer.from(b64, 'base64');
    const got = sha256(bytes);
    if (got !== f.sha256 || bytes.length !== f.bytes) {
      throw new RoamError(ErrorCodes.BUNDLE_HASH_MISMATCH, `${f.name} in the bundle does not match its manifest (sha256 ${got.slice(0, 12)}…, ${bytes.length} bytes; the manifest says ${f.sha256.slice(0, 12)}…, ${f.bytes} bytes): damaged or tampered with`, { name: f.name });
    }
    files.set(f.name, bytes);
  }
  const manifest = { ...(m as unknown as Manifest), files: list, redactions: (m.redactions && typeof m.redactions === 'object' ? m.redactions : {}) as RedactionCounts };
  return { manifest, files };
}
