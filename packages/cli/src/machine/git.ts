/**
 * A project's git identity, read from the files (no git binary): the remote's URL, normalised so
 * that the SSH and HTTPS forms of one repository compare equal, the repository's root, and the
 * project's path inside it.
 */
import { readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';

export interface GitIdentity {
  /** `host/owner/repo`, lower-case host, no scheme, user, port or `.git`. */
  readonly remote: string;
  /** The repository's root directory (absent from what a device publishes). */
  readonly root: string;
  /** The project's path inside the repository, POSIX separators, '' for the root. */
  readonly sub: string;
}

/** `git@github.com:Alice/app.git`, `https://user@github.com/Alice/app` → `github.com/Alice/app`. */
export function normaliseRemote(url: string): string | null {
  let u = url.trim();
  if (!u) return null;
  let host: string;
  let path: string;
  const scp = /^(?:[^@/]+@)?([^:/]+):(?!\/)(.+)$/.exec(u);
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(u)) {
    try {
      const p = new URL(u);
      host = p.hostname;
      path = p.pathname;
    } catch {
      return null;
    }
  } else if (scp) {
    host = scp[1]!;
    path = scp[2]!;
  } else {
    return null;
  }
  u = path.replace(/^\/+/, '').replace(/\/+$/, '').replace(/\.git$/, '');
  if (!u) return null;
  return `${host.toLowerCase()}/${u}`;
}

function gitDir(root: string): string | null {
  const dot = join(root, '.git');
  try {
    const st = statSync(dot);
    if (st.isDirectory()) return dot;
    // A worktree or submodule: "gitdir: <path>"
    const m = /^gitdir:\s*(.+)$/m.exec(readFileSync(dot, 'utf8'));
    if (!m) return null;
    const d = resolve(root, m[1]!.trim());
    // A linked worktree's config lives in the common dir.
    try {
      return resolve(d, readFileSync(join(d, 'commondir'), 'utf8').trim());
    } catch {
      return d;
    }
  } catch {
    return null;
  }
}

/** The remote URL of `origin`, else of the first remote, from a git config file's text. */
export function remoteFromConfig(text: string): string | null {
  const remotes: Array<[string, string]> = [];
  let section: string | null = null;
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    const s = /^\[remote\s+"([^"]+)"\]$/.exec(line);
    if (s) {
      section = s[1]!;
      continue;
    }
    if (line.startsWith('[')) {
      section = null;
      continue;
    }
    const kv = /^url\s*=\s*(.+)$/.exec(line);
    if (section && kv) remotes.push([section, kv[1]!]);
  }
  return (remotes.find(([n]) => n === 'origin') ?? remotes[0])?.[1] ?? null;
}

/** The git identity of a directory (walking up to the repository root), or null. */
export function gitIdentity(dir: string): GitIdentity | null {
  let root = resolve(dir);
  for (;;) {
    const gd = gitDir(root);
    if (gd) {
      let url: string | null = null;
      try {
        url = remoteFromConfig(readFileSync(join(gd, 'config'), 'utf8'));
      } catch {
        return null;
      }
      const remote = url ? normaliseRemote(url) : null;
      if (!remote) return null;
      return { remote, root, sub: relative(root, resolve(dir)).split(sep).join('/') };
    }
    const up = dirname(root);
    if (up === root) return null;
    root = up;
  }
}
