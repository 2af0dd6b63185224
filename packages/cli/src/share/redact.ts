/**
 * Redaction of secrets in session text, before a session leaves the user's machines (`roam export`,
 * `roam share`). Each secret found is replaced by `[REDACTED:<kind>]`. Best effort by design: the
 * rules catch the credentials people paste or tools print (known token shapes, private key blocks,
 * passwords in URLs, `.env` assignments, Authorization headers, high-entropy values under
 * secret-looking names), not every secret there is. docs/SHARE.md lists the rules.
 *
 *   redactText(text)         plain text (markdown, a tool result file)
 *   redactValue(value)       a parsed JSON value: every string in it, and values under secret-looking keys
 *   redactJsonLine(line)     one raw JSONL line: stays valid JSON; a line without secrets stays byte for byte
 *
 * What is deliberately left alone: uuids, git SHAs and other hex digests, base64 blobs (images,
 * thinking signatures, Codex's encrypted reasoning: the tools need them to replay a session and the
 * rules are anchored on token prefixes, so they do not match inside them), file paths, versions,
 * colours, and the word "password" in prose or code that names a variable.
 *
 * Every replaced span is free of `"` and `\` or consists of complete escape sequences, and the
 * replacement holds neither, so redacting the text of a JSON document (or JSON nested in a string,
 * as in Codex's tool call arguments) keeps it valid.
 */

export type RedactionKind =
  | 'anthropic'
  | 'openai'
  | 'google'
  | 'github'
  | 'gitlab'
  | 'slack'
  | 'stripe'
  | 'aws'
  | 'npm'
  | 'pypi'
  | 'jwt'
  | 'bearer'
  | 'private-key'
  | 'url-password'
  | 'env'
  | 'secret';

/** How many secrets of each kind were replaced. */
export type RedactionCounts = Partial<Record<RedactionKind, number>>;

export const REDACTED_PREFIX = '[REDACTED:';

export function marker(kind: RedactionKind): string {
  return `[REDACTED:${kind}]`;
}

interface TokenRule {
  readonly kind: RedactionKind;
  readonly re: RegExp;
}

// Token characters: a token never holds `"` or `\`, so a match never cuts an escape sequence.
// `(?<![\w-])` / `(?![\w-])` keep a token from matching inside a longer word or blob.
const B = '(?:(?<![A-Za-z0-9_\\-])|(?<=\\\\[nrt]))';
const E = '(?![A-Za-z0-9_\\-])';

/** Known token shapes, most specific first. Each match is replaced whole. */
const TOKEN_RULES: readonly TokenRule[] = [
  { kind: 'anthropic', re: new RegExp(`${B}sk-ant-[a-z0-9]{2,10}-[A-Za-z0-9_\\-]{16,}${E}`, 'g') },
  { kind: 'openai', re: new RegExp(`${B}sk-(?:proj|svcacct|admin|None)-[A-Za-z0-9_\\-]{20,}${E}`, 'g') },
  { kind: 'openai', re: new RegExp(`${B}sk-[A-Za-z0-9]{20,}T3BlbkFJ[A-Za-z0-9]{20,}${E}`, 'g') },
  { kind: 'openai', re: new RegExp(`${B}sk-[A-Za-z0-9]{32,}${E}`, 'g') },
  { kind: 'google', re: new RegExp(`${B}AIza[0-9A-Za-z_\\-]{35}${E}`, 'g') },
  { kind: 'google', re: new RegExp(`${B}GOCSPX-[A-Za-z0-9_\\-]{20,}${E}`, 'g') },
  { kind: 'google', re: new RegExp(`${B}ya29\\.[0-9A-Za-z_\\-]{20,}${E}`, 'g') },
  { kind: 'github', re: new RegExp(`${B}gh[pousr]_[A-Za-z0-9]{30,}${E}`, 'g') },
  { kind: 'github', re: new RegExp(`${B}github_pat_[A-Za-z0-9_]{40,}${E}`, 'g') },
  { kind: 'gitlab', re: new RegExp(`${B}gl(?:pat|dt|rt|ptt|cbt|imt|ft|oas|soat|ffct)-[A-Za-z0-9_\\-]{20,}${E}`, 'g') },
  { kind: 'slack', re: new RegExp(`${B}xox[abposre]-[A-Za-z0-9\\-]{10,}${E}`, 'g') },
  { kind: 'slack', re: new RegExp(`${B}xapp-\\d-[A-Za-z0-9\\-]{10,}${E}`, 'g') },
  { kind: 'slack', re: /https:\/\/hooks\.slack\.com\/(?:services|workflows)\/[A-Za-z0-9_/\-]{20,}/g },
  { kind: 'stripe', re: new RegExp(`${B}(?:sk|rk)_(?:live|test)_[A-Za-z0-9]{16,}${E}`, 'g') },
  { kind: 'stripe', re: new RegExp(`${B}whsec_[A-Za-z0-9]{24,}${E}`, 'g') },
  { kind: 'aws', re: /(?<![A-Z0-9])(?:AKIA|ASIA|ABIA|ACCA|A3T[A-Z0-9])[A-Z0-9]{16}(?![A-Z0-9])/g },
  { kind: 'npm', re: new RegExp(`${B}npm_[A-Za-z0-9]{36}${E}`, 'g') },
  { kind: 'pypi', re: new RegExp(`${B}pypi-AgE[A-Za-z0-9_\\-]{50,}${E}`, 'g') },
  { kind: 'jwt', re: new RegExp(`${B}eyJ[A-Za-z0-9_\\-]{8,}\\.eyJ[A-Za-z0-9_\\-]{8,}\\.[A-Za-z0-9_\\-]{8,}${E}`, 'g') },
];

/**
 * Private key blocks, PEM or OpenSSH, whatever the line breaks are written as (real newlines, or
 * `\n` escapes inside a JSON string, once or twice escaped). A block cut short (no END line) is
 * redacted up to where its base64 stops.
 */
const PRIVATE_KEY = /-----BEGIN ((?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?)-----(?:(?:(?!-----)[^"\\]|\\[\s\S])*?-----END \1-----|(?=(?:[A-Za-z0-9+/=:,\- \t]*(?:\r?\n|\\+[nrt]))+[A-Za-z0-9+/=]{40})(?:[A-Za-z0-9+/=:,\-\s]|\\+[nrt])*)/g;

/** `scheme://user:password@host`: the password goes, the user stays. */
const URL_PASSWORD = /\b([a-z][a-z0-9+.\-]{1,20}:\/\/)([^\s:/?#@"'\\<>[\]]{0,128}):([^\s/?#@"'\\<>]{1,256})@(?=[^\s/?#@"'\\]*[A-Za-z0-9])/gi;

/**
 * An Authorization (or api-key) header's credential: `Authorization: Bearer <token>`,
 * `"authorization": "Basic <b64>"`, `x-api-key: <key>`. Quotes may be JSON-escaped.
 */
const AUTH_HEADER = /((?:\\*["'])?(?:proxy-)?authorization(?:\\*["'])?\s*[:=]\s*(?:\\*["'])?\s*(?:Bearer|Basic|Token|token|bearer|Digest|Bot|ApiKey)\s+)([A-Za-z0-9._~+/=\-]{8,})/gi;
const KEY_HEADER = /((?:\\*["'])?(?:x-api-key|api-key|x-auth-token|x-goog-api-key|private-token|x-gitlab-token)(?:\\*["'])?\s*[:=]\s*(?:\\*["'])?\s*)([A-Za-z0-9._~+/=\-]{8,})/gi;

/** npm's `.npmrc`: `//registry.npmjs.org/:_authToken=<token>` and `_auth=<b64>`, `_password=<b64>`. */
const NPMRC = /(:_(?:authToken|auth|password)\s*=\s*)([^\s"'\\]{8,})/g;

/**
 * `NAME=value` / `NAME: value` / `"name": "value"`, possibly `export`ed, quoted, or inside JSON
 * (quotes escaped with backslashes). The name is checked by `secretName`, the value by `envValue`
 * or `highEntropy`. Group 1: the name; 2: the separator (and opening quote); 3: a quoted value;
 * 4: an unquoted value.
 */
const ASSIGNMENT = /(?<=^|[\s;&|(,{[`]|\\[nrt]|\\*["'])([A-Za-z_][A-Za-z0-9_.\-]{0,80})(?:\\*["'])?([ \t]*[:=][ \t]*)(?:(\\*["'])((?:(?!\3)[^\n\\]|\\[^"'\\])*?)\3|([^\s"'`\\;,&|(){}<>[\]]+))/g;

const PUBLIC_WORDS = new Set(['public', 'primary', 'foreign', 'sort', 'partition', 'cache', 'idempotency', 'object', 'storage', 'row', 'hash', 'unique', 'composite', 'next', 'page', 'max', 'min', 'num', 'total', 'input', 'output', 'cancel', 'cancellation', 'csrf', 'xsrf', 'lookup', 'map', 'dict', 'sub', 'react', 'query', 'index', 'sequence', 'continuation', 'key']);
const SECRET_LAST = new Set(['secret', 'password', 'passwd', 'pwd', 'passphrase', 'credential', 'credentials', 'apikey', 'token', 'key', 'pass', 'authtoken', 'secretkey', 'privatekey', 'accesskey']);

/** Whether a variable, key or field name names a secret: `*_KEY`, `*_SECRET`, `*_TOKEN`, `PASSWORD`, `apiKey`, `client_secret`, … */
export function secretName(name: string): boolean {
  const words = name
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .toLowerCase()
    .split(/[_.\-]+/)
    .filter(Boolean);
  const last = words[words.length - 1];
  if (!last || !SECRET_LAST.has(last)) return false;
  const prev = words[words.length - 2];
  if (last === 'key' || last === 'token' || last === 'pass') {
    // A bare `key`/`token`/`pass` is too common a word; it needs a word before it that is not a public one.
    if (prev === undefined || PUBLIC_WORDS.has(prev) || words.some((w) => w === 'public')) return false;
  }
  if (words.includes('public')) return false;
  return true;
}

const PLACEHOLDER = /^(?:|\$.*|%[A-Za-z_]+%|<[^>]*>|\{\{.*\}\}|\$\{.*\}|\*+|\.+|x+|X+|-+|#+|null|none|nil|undefined|true|false|changeme|secret|password|your[_\- ].*|\[REDACTED.*|REDACTED|<redacted>|example|dummy|test|string|env\..*|process\.env\..*|os\.environ.*)$/i;

/** A value given to a secret name in a `.env`-style assignment: anything but a reference, a placeholder or code. */
function envValue(v: string): boolean {
  if (v.length < 3 || PLACEHOLDER.test(v)) return false;
  if (/^(.)\1+$/.test(v)) return false; // ******** or xxxxxxxx
  // An expression that reads a variable or calls something (`req.body.password`, `getToken()`), not a literal.
  if (/^[A-Za-z_$][\w$]*(?:\.[A-Za-z_$][\w$]*)+$/.test(v) && !/\d/.test(v)) return false;
  if (/^(?:[a-z]+_)+[a-z]+$/.test(v) && v.length < 24) return false; // an identifier: my_password_var
  return true;
}

/** Bits of entropy per character (Shannon). */
function entropy(s: string): number {
  const counts = new Map<string, number>();
  for (const ch of s) counts.set(ch, (counts.get(ch) ?? 0) + 1);
  let h = 0;
  for (const n of counts.values()) {
    const p = n / s.length;
    h -= p * Math.log2(p);
  }
  return h;
}

/** A value that looks generated: long, no spaces, letters and digits mixed, high entropy. */
export function highEntropy(v: string): boolean {
  if (v.length < 16 || /\s/.test(v) || PLACEHOLDER.test(v)) return false;
  const classes = [/[a-z]/, /[A-Z]/, /[0-9]/, /[^A-Za-z0-9]/].filter((r) => r.test(v)).length;
  if (classes < 2 || !/[0-9]/.test(v)) return false;
  if (/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(v)) return false; // a uuid is an id
  if (/^[./~]|^[A-Za-z]:\\/.test(v) || /\/[\w.-]+\//.test(v)) return false; // a path
  return entropy(v) >= 3.5;
}

export interface Redacted {
  readonly text: string;
  readonly counts: RedactionCounts;
}

function add(counts: RedactionCounts, kind: RedactionKind, n = 1): void {
  counts[kind] = (counts[kind] ?? 0) + n;
}

/** Replaces the secrets in `text`; `counts` (if given) is incremented per secret. */
export function redactString(text: string, counts: RedactionCounts = {}): string {
  if (text.length < 8) return text;
  let t = text;
  if (t.includes('PRIVATE KEY')) {
    t = t.replace(PRIVATE_KEY, () => {
      add(counts, 'private-key');
      return marker('private-key');
    });
  }
  for (const rule of TOKEN_RULES) {
    rule.re.lastIndex = 0;
    if (!rule.re.test(t)) continue;
    t = t.replace(rule.re, () => {
      add(counts, rule.kind);
      return marker(rule.kind);
    });
  }
  if (t.includes('://')) {
    t = t.replace(URL_PASSWORD, (m, scheme: string, user: string, pass: string) => {
      if (PLACEHOLDER.test(pass) || pass.startsWith('[REDACTED')) return m;
      add(counts, 'url-password');
      return `${scheme}${user}:${marker('url-password')}@`;
    });
  }
  if (/authorization|api-key|auth-token|private-token|gitlab-token/i.test(t)) {
    const header = (m: string, head: string, cred: string) => {
      if (PLACEHOLDER.test(cred) || (!/\d/.test(cred) && cred.length < 20)) return m;
      add(counts, 'bearer');
      return `${head}${marker('bearer')}`;
    };
    t = t.replace(AUTH_HEADER, header).replace(KEY_HEADER, header);
  }
  if (t.includes(':_')) {
    t = t.replace(NPMRC, (m, head: string, v: string) => {
      if (!envValue(v)) return m;
      add(counts, 'npm');
      return `${head}${marker('npm')}`;
    });
  }
  if (/[:=]/.test(t) && /key|secret|token|pass|pwd|credential/i.test(t)) {
    t = replaceAssignments(t, counts);
  }
  return t;
}

/**
 * The assignments of secret-looking names in `t`. A match of another name is skipped just past its
 * name, not past its value: the value of `"output": "…"` may hold the assignments to redact.
 */
function replaceAssignments(t: string, counts: RedactionCounts): string {
  let out = '';
  let from = 0;
  ASSIGNMENT.lastIndex = 0;
  for (let m = ASSIGNMENT.exec(t); m !== null; m = ASSIGNMENT.exec(t)) {
    const [whole, name, sep, q, quoted, bare] = m as unknown as [string, string, string, string | undefined, string | undefined, string | undefined];
    const value = quoted ?? bare ?? '';
    const upper = /^[A-Z0-9_]+$/.test(name) && /[A-Z]/.test(name);
    // `.env` style: an UPPER_CASE name, or `name=value` without spaces around `=`.
    const envStyle = upper || (sep === '=' && bare !== undefined);
    const secret = secretName(name) &&
      (envStyle ? envValue(value) : highEntropy(value) || (quoted !== undefined && strongQuoted(name, value))) &&
      // A bare word without digits after a lower-case name is code (`token = refresh`), not a literal.
      !(bare !== undefined && /^\w+$/.test(bare) && !upper && !/\d/.test(bare));
    if (!secret) {
      ASSIGNMENT.lastIndex = m.index + name.length;
      continue;
    }
    const kind: RedactionKind = envStyle ? 'env' : 'secret';
    add(counts, kind);
    const valueStart = m.index + whole.length - value.length - (q?.length ?? 0);
    out += t.slice(from, valueStart) + marker(kind);
    from = valueStart + value.length;
  }
  return from === 0 ? t : out + t.slice(from);
}

/** `"password": "hunter22"`-like pairs in JSON or YAML: a quoted value of a password-ish name counts even when short. */
function strongQuoted(name: string, value: string): boolean {
  return /pass(?:word|wd|phrase)?$|secret$/i.test(name) && envValue(value) && !/\s/.test(value);
}

/** Redacts plain text. */
export function redactText(text: string): Redacted {
  const counts: RedactionCounts = {};
  return { text: redactString(text, counts), counts };
}

/**
 * Redacts every string in a parsed JSON value (keys are kept). A string under a secret-looking key
 * (`"apiKey"`, `"OPENAI_API_KEY"`, `"password"`) is replaced whole when it looks like a credential.
 * Returns the same object when nothing changed.
 */
export function redactValue<T>(value: T, counts: RedactionCounts = {}): T {
  return walk(value, null, counts) as T;
}

function walk(v: unknown, key: string | null, counts: RedactionCounts): unknown {
  if (typeof v === 'string') {
    if (key !== null && secretName(key) && !v.startsWith(REDACTED_PREFIX)) {
      const upper = /^[A-Z0-9_]+$/.test(key);
      if (upper ? envValue(v) && !/\s/.test(v) : highEntropy(v) || strongQuoted(key, v)) {
        add(counts, upper ? 'env' : 'secret');
        return marker(upper ? 'env' : 'secret');
      }
    }
    return redactString(v, counts);
  }
  if (Array.isArray(v)) {
    let out: unknown[] | null = null;
    for (let i = 0; i < v.length; i++) {
      const r = walk(v[i], null, counts);
      if (r !== v[i]) (out ??= v.slice())[i] = r;
    }
    return out ?? v;
  }
  if (v !== null && typeof v === 'object') {
    let out: Record<string, unknown> | null = null;
    for (const [k, x] of Object.entries(v as Record<string, unknown>)) {
      const r = walk(x, k, counts);
      if (r !== x) (out ??= { ...(v as Record<string, unknown>) })[k] = r;
    }
    return out ?? v;
  }
  return v;
}

/**
 * Redacts one JSONL line (without its newline). A line that parses is redacted value by value and
 * written back with JSON.stringify only if something changed (otherwise the same string is
 * returned); one that does not parse (cut short) is redacted as text, which keeps any JSON in it as
 * valid as it was.
 */
export function redactJsonLine(line: string, counts: RedactionCounts = {}): string {
  if (!mayHoldSecret(line)) return line;
  let parsed: unknown;
  try {
    parsed = JSON.parse(line);
  } catch {
    return redactString(line, counts);
  }
  const r = redactValue(parsed, counts);
  return r === parsed ? line : JSON.stringify(r);
}

/**
 * A cheap test whether a text can hold anything a rule matches (most lines of a session do not):
 * the triggers of every rule.
 */
const TRIGGER = /sk-|AIza|GOCSPX|ya29\.|gh[pousr]_|github_pat_|gl[a-z]{1,4}-|xox|xapp-|hooks\.slack|_live_|_test_|whsec_|npm_|pypi-|eyJ|PRIVATE KEY|:\/\/[^\s/@]*:[^\s/@]*@|authori[sz]ation|api-key|auth-token|private-token|gitlab-token|:_|(?:key|secret|token|word|wd|pass|phrase|entials?)\\*["']?\s*[:=]/i;

/** AWS key ids, case-sensitive (with the `i` flag this would fire on most base64 blobs). */
const AWS_TRIGGER = /(?:AKIA|ASIA|ABIA|ACCA|A3T[A-Z0-9])[A-Z0-9]{16}/;

export function mayHoldSecret(text: string): boolean {
  return TRIGGER.test(text) || AWS_TRIGGER.test(text);
}

/** Redacts a whole JSONL document (lines kept as they are when clean; the final newline kept). */
export function redactJsonl(text: string, counts: RedactionCounts = {}): string {
  return text
    .split('\n')
    .map((l) => (l.endsWith('\r') ? `${redactJsonLine(l.slice(0, -1), counts)}\r` : redactJsonLine(l, counts)))
    .join('\n');
}

/** Redacts a file's content by its name: `.jsonl` line by line, `.json` as a value, anything else as text. */
export function redactFileContent(name: string, text: string, counts: RedactionCounts = {}): string {
  if (name.endsWith('.jsonl')) return redactJsonl(text, counts);
  if (name.endsWith('.json')) {
    try {
      const parsed: unknown = JSON.parse(text);
      const r = redactValue(parsed, counts);
      if (r === parsed) return text;
      const indent = /^[{[]\r?\n([ \t]+)/.exec(text)?.[1] ?? '';
      return JSON.stringify(r, null, indent) + (text.endsWith('\n') ? '\n' : '');
    } catch {
      // not JSON after all: as text
    }
  }
  return redactString(text, counts);
}

/** "3 secrets redacted (2 openai, 1 env)" */
export function describeCounts(counts: RedactionCounts): string {
  const entries = Object.entries(counts) as [RedactionKind, number][];
  const total = entries.reduce((s, [, n]) => s + n, 0);
  if (!total) return 'no secrets found';
  return `${total} secret${total === 1 ? '' : 's'} redacted (${entries.map(([k, n]) => `${n} ${k}`).join(', ')})`;
}

export function mergeCounts(into: RedactionCounts, from: RedactionCounts): RedactionCounts {
  for (const [k, n] of Object.entries(from) as [RedactionKind, number][]) add(into, k, n);
  return into;
}
