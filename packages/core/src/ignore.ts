/**
 * Ignore rules: roam's defaults (what session-roam's Syncthing template skips, except `subagents/`,
 * which resuming needs) and a per-folder `.roamignore` in Syncthing's `.stignore` syntax:
 * one pattern per line, `//` comments, first match wins, `!` re-includes, `*` `**` `?` `[…]`,
 * a leading `/` anchors to the folder root, a pattern without `/` matches at any depth, `(?i)`
 * ignores case, `(?d)` is accepted (roam always lets a folder with ignored files be deleted).
 * A pattern that matches a directory ignores everything under it.
 *
 * Pure: the daemon reads `.roamignore`; peers send their rule lines in `folders`, so each side
 * knows what the other does not sync.
 */

export const DEFAULT_IGNORES = [
  // Per machine: absolute paths inside (DESIGN.md §3). Gemini CLI's project ownership marker
  // (`tmp/<slug>/.project_root`) names the project's path here; synced, it makes the CLI on another
  // device refuse its own directory for that project (docs/GEMINI.md).
  'sessions-index.json',
  '.project_root',
  // Worktrees, caches and build output that tools leave in their folders.
  '*worktrees*',
  'node_modules',
  '.cache',
  '__pycache__',
  'webfetch-*',
  // Editor and OS junk, lock temp files.
  '*.swp',
  '*.swx',
  '*~',
  '.#*',
  '.DS_Store',
  'Thumbs.db',
  'desktop.ini',
  '*.lock.tmp',
  '.roam-lock.json*',
  // Other sync tools' bookkeeping.
  '.stfolder',
  '.stignore',
  '.stversions',
  '.syncthing.*.tmp',
  '.roamignore',
];

interface Rule {
  readonly include: boolean;
  readonly re: RegExp;
  /**
   * For a pattern without `/` that can only match within one path segment (no `**`, no `[…]`):
   * the source matching that one segment (the rule matches a path if it matches a segment of it).
   */
  readonly segment?: string;
}

/**
 * A pre-filter: most names match no rule, and a few tests say so instead of every rule's regex on
 * every parent of the name. `segment` matches any single path segment that some segment rule
 * matches; `path` any prefix that another rule matches (a little more when some rule ignores case).
 */
interface AnyRule {
  readonly segment: RegExp | null;
  readonly path: RegExp | null;
}

function anyRule(rules: readonly Rule[]): AnyRule {
  const union = (sources: string[], caseless: boolean): RegExp | null => (sources.length ? new RegExp(`^(?:${sources.join('|')})$`, caseless ? 'i' : '') : null);
  const caseless = rules.some((r) => r.re.flags.includes('i'));
  return {
    segment: union(rules.flatMap((r) => (r.segment === undefined ? [] : [r.segment])), caseless),
    path: union(rules.flatMap((r) => (r.segment === undefined ? [r.re.source.slice(1, -1)] : [])), caseless),
  };
}

/** The regular expression source of a glob, without anchors. */
function globSource(glob: string): string {
  let re = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!;
    if (c === '*') {
      if (glob[i + 1] === '*' && glob[i + 2] === '/') {
        re += '(?:.*/)?'; // `**/` also matches no directory at all
        i += 2;
      } else if (glob[i + 1] === '*') {
        re += '.*';
        i++;
      } else re += '[^/]*';
    } else if (c === '?') re += '[^/]';
    else if (c === '[') {
      const end = glob.indexOf(']', i + 1);
      if (end === -1) re += '\\[';
      else {
        re += `[${glob.slice(i + 1, end).replace(/^!/, '^').replace(/\\/g, '\\\\')}]`;
        i = end;
      }
    } else re += c.replace(/[.+^${}()|\\]/g, '\\$&');
  }
  return re;
}

export function parseRules(lines: readonly string[]): Rule[] {
  const rules: Rule[] = [];
  for (const raw of lines) {
    let line = raw.trim();
    if (!line || line.startsWith('//') || line.startsWith('#include')) continue;
    let include = false;
    let caseless = false;
    for (;;) {
      if (line.startsWith('!')) {
        include = true;
        line = line.slice(1);
      } else if (line.startsWith('(?i)')) {
        caseless = true;
        line = line.slice(4);
      } else if (line.startsWith('(?d)')) line = line.slice(4);
      else break;
    }
    line = line.replace(/\/+$/, '');
    if (!line) continue;
    // A leading `/` anchors to the root; a pattern without `/` matches at any depth.
    const source = line.startsWith('/') ? globSource(line.slice(1)) : line.includes('/') ? globSource(line) : `(?:.*/)?${globSource(line)}`;
    const segment = !line.includes('/') && !line.includes('**') && !line.includes('[') ? globSource(line) : undefined;
    rules.push({ include, re: new RegExp(`^${source}$`, caseless ? 'i' : ''), ...(segment === undefined ? {} : { segment }) });
  }
  return rules;
}

/** Decisions remembered per rule set (names of a folder: bounded, dropped whole when full). */
const MEMO_MAX = 200_000;

export class IgnoreRules {
  private readonly rules: Rule[];
  private readonly any: AnyRule;
  /**
   * Decisions so far (the rules never change: a new rule set is a new instance). `ignores` is asked
   * for every item each time roamd reports its sync state (syncState walks every local and peer
   * item), and each answer tests every rule's regex against every parent of the name: ~70 regex
   * tests per name, about a second of CPU per `roam status` with 10,000 files on each side.
   */
  private readonly memo = new Map<string, boolean>();
  /** Selective sync: the top-level entries (projects) synced, or null for all. */
  readonly only: ReadonlySet<string> | null;

  /** The rule lines these rules were made from (sent to peers, so they know what this device skips). */
  readonly lines: readonly string[];

  constructor(rules: Rule[], only: readonly string[] | null = null, lines: readonly string[] = []) {
    this.rules = rules;
    this.any = anyRule(rules);
    this.only = only ? new Set(only) : null;
    this.lines = lines;
  }

  /** roam's defaults first (so a folder's own lines cannot re-include its bookkeeping), then `own`. */
  static withDefaults(own: readonly string[], only: readonly string[] | null = null): IgnoreRules {
    const lines = [...DEFAULT_IGNORES, ...own];
    return new IgnoreRules(parseRules(lines), only, lines);
  }

  /**
   * Whether an item (relative POSIX path) is ignored. As in Syncthing, a pattern matches a path or
   * any of its parent directories, and the first pattern that matches decides.
   */
  ignores(name: string): boolean {
    let known = this.memo.get(name);
    if (known === undefined) {
      known = this.decide(name);
      if (this.memo.size >= MEMO_MAX) this.memo.clear();
      this.memo.set(name, known);
    }
    return known;
  }

  private decide(name: string): boolean {
    const parts = name.split('/');
    if (this.only && !this.only.has(parts[0]!)) return true;
    const prefixes: string[] = [];
    for (let i = 0, at = -1; i < parts.length; i++) prefixes.push(name.slice(0, (at += parts[i]!.length + 1)));
    const { segment, path } = this.any;
    if (!parts.some((p) => segment?.test(p)) && !prefixes.some((p) => path?.test(p))) return false;
    for (const r of this.rules) {
      if (prefixes.some((p) => r.re.test(p))) return !r.include;
    }
    return false;
  }
}
