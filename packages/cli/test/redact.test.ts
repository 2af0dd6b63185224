/**
 * The redaction rules (src/share/redact.ts): a table of fabricated secrets of the real shapes, each
 * caught with its kind; a table of ordinary texts left as they are; and JSONL lines that stay valid
 * JSON with every other field unchanged.
 *
 * The secrets are built at run time from a seeded generator, so no token-shaped string sits in the
 * source (secret scanners stay quiet, and none of them is real).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  describeCounts, highEntropy, redactFileContent, redactJsonLine, redactJsonl, redactText, redactValue, secretName, type RedactionCounts, type RedactionKind,
} from '../src/share/redact.js';

let seed = 42;
function rnd(): number {
  seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
  return seed / 2 ** 32;
}
const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
const UPPER_NUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
const B64 = `${ALNUM}+/`;
const URLSAFE = `${ALNUM}_-`;
function gen(n: number, alphabet = ALNUM): string {
  let s = '';
  for (let i = 0; i < n; i++) s += alphabet[Math.floor(rnd() * alphabet.length)]!;
  // At least one digit and one letter, as real tokens have.
  return s.replace(/^./, alphabet.includes('a') ? 'a' : 'A').replace(/.$/, '7');
}
const b64url = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');

const jwt = `${b64url({ alg: 'HS256', typ: 'JWT' })}.${b64url({ sub: '1234567890', name: 'Jo', iat: 1716239022 })}.${gen(43, URLSAFE)}`;
const pemBody = Array.from({ length: 6 }, () => gen(64, B64)).join('\n');
const rsaPem = `-----BEGIN RSA PRIVATE KEY-----\n${pemBody}\n-----END RSA PRIVATE KEY-----`;
const sshKey = `-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW\n${gen(70, B64)}\n${gen(70, B64)}\n-----END OPENSSH PRIVATE KEY-----`;
const pkcs8 = `-----BEGIN PRIVATE KEY-----\r\n${gen(64, B64)}\r\n${gen(40, B64)}==\r\n-----END PRIVATE KEY-----`;
const awsSecret = gen(40, B64);

/** [what, text with the secret, the secret (must be gone), the kind expected] */
const SECRETS: Array<[string, string, string, RedactionKind]> = [];
const secret = (what: string, s: string, kind: RedactionKind, context = (x: string) => `here it is: ${x} (do not share)`) =>
  SECRETS.push([what, context(s), s, kind]);

const anthropic = `sk-ant-api03-${gen(93, URLSAFE)}AA`;
secret('Anthropic API key', anthropic, 'anthropic');
secret('Anthropic admin key', `sk-ant-admin01-${gen(93, URLSAFE)}AA`, 'anthropic');
secret('Anthropic OAuth token', `sk-ant-oat01-${gen(93, URLSAFE)}AA`, 'anthropic');
secret('OpenAI project key', `sk-proj-${gen(64, URLSAFE)}T3BlbkFJ${gen(64, URLSAFE)}`, 'openai');
secret('OpenAI legacy key', `sk-${gen(20)}T3BlbkFJ${gen(20)}`, 'openai');
secret('OpenAI service account key', `sk-svcacct-${gen(74, URLSAFE)}`, 'openai');
secret('OpenAI 48-char key', `sk-${gen(48)}`, 'openai');
secret('Google API key', `AIza${gen(35, URLSAFE)}`, 'google');
secret('Google OAuth client secret', `GOCSPX-${gen(28, URLSAFE)}`, 'google');
secret('Google OAuth access token', `ya29.${gen(120, URLSAFE)}`, 'google');
secret('GitHub classic PAT', `ghp_${gen(36)}`, 'github');
secret('GitHub OAuth token', `gho_${gen(36)}`, 'github');
secret('GitHub app installation token', `ghs_${gen(36)}`, 'github');
secret('GitHub fine-grained PAT', `github_pat_${gen(22)}_${gen(59)}`, 'github');
secret('GitLab PAT', `glpat-${gen(20, URLSAFE)}`, 'gitlab');
secret('GitLab deploy token', `gldt-${gen(20, URLSAFE)}`, 'gitlab');
secret('Slack bot token', `xoxb-${gen(12, '0123456789')}-${gen(13, '0123456789')}-${gen(24)}`, 'slack');
secret('Slack user token', `xoxp-${gen(12, '0123456789')}-${gen(12, '0123456789')}-${gen(13, '0123456789')}-${gen(32, 'abcdef0123456789')}`, 'slack');
secret('Slack webhook', `https://hooks.slack.com/services/T${gen(8, UPPER_NUM)}/B${gen(8, UPPER_NUM)}/${gen(24)}`, 'slack');
secret('Stripe live secret key', `sk_live_${gen(99)}`, 'stripe');
secret('Stripe restricted key', `rk_test_${gen(99)}`, 'stripe');
secret('Stripe webhook secret', `whsec_${gen(32)}`, 'stripe');
secret('AWS access key id', `AKIA${gen(16, UPPER_NUM)}`, 'aws');
secret('AWS temporary access key id', `ASIA${gen(16, UPPER_NUM)}`, 'aws');
secret('AWS secret access key (credentials file)', awsSecret, 'secret', (s) => `[default]\naws_access_key_id = [REDACTED:aws]\naws_secret_access_key = ${s}\n`);
secret('AWS secret access key (env)', gen(40, B64), 'env', (s) => `export AWS_SECRET_ACCESS_KEY=${s}`);
secret('AWS secret in sts JSON output', gen(40, B64), 'secret', (s) => `{\n  "Credentials": {\n    "SecretAccessKey": "${s}",\n    "Expiration": "2026-01-01T00:00:00Z"\n  }\n}`);
secret('npm token', `npm_${gen(36)}`, 'npm');
secret('npm token in .npmrc', gen(36, URLSAFE), 'npm', (s) => `//registry.example.org/:_authToken=${s}\n`);
secret('PyPI token', `pypi-AgEIcHlwaS5vcmc${gen(70, URLSAFE)}`, 'pypi');
secret('JWT', jwt, 'jwt');
secret('Bearer token in a curl header', gen(40, URLSAFE), 'bearer', (s) => `curl -H "Authorization: Bearer ${s}" https://api.example.com/v1/me`);
secret('Basic auth header in HTTP dump', Buffer.from('alice:correct horse 42').toString('base64'), 'bearer', (s) => `GET / HTTP/1.1\r\nHost: x\r\nauthorization: Basic ${s}\r\n`);
secret('x-api-key header', gen(32, 'abcdef0123456789'), 'bearer', (s) => `x-api-key: ${s}`);
secret('RSA private key block', rsaPem, 'private-key', (s) => `cat id_rsa\n${s}\n`);
secret('OpenSSH private key block', sshKey, 'private-key');
secret('PKCS#8 key with CRLF', pkcs8, 'private-key');
secret('password in a postgres URL', 'S3cr3t-pa55', 'url-password', (s) => `DATABASE_URL is postgres://app:${s}@db.internal:5432/app`);
secret('password in a redis URL without user', 'hunter2hunter2', 'url-password', (s) => `redis://:${s}@cache:6379/0`);
secret('.env secret', gen(24), 'env', (s) => `# settings\nSESSION_SECRET=${s}\nPORT=3000\n`);
secret('.env quoted token', gen(30, URLSAFE), 'env', (s) => `export SENTRY_AUTH_TOKEN="${s}"`);
secret('.env password', 'tr0ub4dor&3', 'env', (s) => `DB_PASSWORD='${s}'`);
secret('docker-compose password', 'Zq8xT2vLp0', 'env', (s) => `environment:\n  POSTGRES_PASSWORD: ${s}\n`);
secret('high-entropy value of apiKey in code', gen(32), 'secret', (s) => `const client = new Client({ apiKey: '${s}' });`);
secret('client_secret in JSON config', gen(40, URLSAFE), 'secret', (s) => `{"client_id": "my-app", "client_secret": "${s}"}`);
secret('password in YAML (quoted)', 'p4ssw0rd!', 'secret', (s) => `db:\n  user: app\n  password: "${s}"\n`);

/** Ordinary texts: none of them may change. */
const ORDINARY: string[] = [
  'Session 1af7fc5e-8455-4414-9ccd-011d40f70b2a resumed on another machine.',
  'commit 2da7505f7a55852ba8e8d7b70cbe5997675451d9\nAuthor: Dev <dev@example.com>',
  'sha256: 8cce2fac5f598346c277e071e1a410a4f12b96dfde1581c9722d32b54dd613e6',
  'Open /home/alice/code/my_app.v2/src/index.ts and C:\\Users\\alice\\app\\main.py',
  'The password must be at least 12 characters; never log the password.',
  'Reset your password from the settings page, then sign in again.',
  'const password = req.body.password;\nif (!password) return res.status(400).end();',
  'function checkToken(token: string): boolean { return token.length > 0; }',
  'if (!process.env.OPENAI_API_KEY) throw new Error("set OPENAI_API_KEY");',
  'export OPENAI_API_KEY=$OPENAI_API_KEY\nexport GITHUB_TOKEN="${GITHUB_TOKEN}"',
  'Put your key in .env: ANTHROPIC_API_KEY=<your key here>',
  'API_KEY=your_api_key_here\nSECRET_KEY=changeme\nPASSWORD=********',
  'interface Login { username: string; password: string; token?: string }',
  'colors: #ff8800, #1e1e1e, #ABCDEF and rgb(12, 34, 56)',
  '"dependencies": {"typescript": "~5.9.3", "vitest": "^4.1.12", "@types/node": "^20.19.0"}',
  'npm install --save-dev --save-exact @anthropic-ai/claude-code@2.1.329',
  'The image is data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==',
  'max_tokens: 4096, input_tokens: 6239, cached_input_tokens: 6144',
  'See https://github.com/openai/codex/blob/main/README.md#install and git@github.com:org/repo.git',
  'ssh://git@example.com:2222/org/repo.git and https://user@example.com/path',
  'Use the Authorization header: Bearer tokens are described in RFC 6750.',
  'curl -H "Authorization: Bearer $TOKEN" https://api.example.com',
  'the task-runner and the desk-lamp; a skeleton key; ask-me-anything',
  'public_key = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl"',
  'PRIMARY_KEY=id\nMAX_TOKENS=8000\nNEXT_PAGE_TOKEN=',
  'The file starts with -----BEGIN RSA PRIVATE KEY----- and ends with the END line.',
  'cacheKey = "user:42:profile"; sortKey: "2024-01-01#a"',
  'Version 0.34.0, node v20.20.2, python 3.12.1, go1.22.3',
  'AKIA is the prefix of long-term AWS access key ids; ASIA of temporary ones.',
  'sk- prefixes: sk-ant- is Anthropic, sk-proj- is OpenAI.',
  '{"type":"thinking","thinking":"ok","signature":"EpcBCkYIBxgCKkC3xWfF2YjQ8c7Lr0xmYvT9hG5kHnZ4pQ2sE1rUoAiJlKwMbNcVdXeFgHiJkLmNoPqRsTuVwXyZ0123456789abcdefABCDEF"}',
  'let token = await getToken(); const secret = config.secret;',
];

describe('redaction: secrets of every kind are caught', () => {
  it.each(SECRETS)('%s', (_what, text, s, kind) => {
    const r = redactText(text);
    expect(r.text).not.toContain(s);
    // No part of a long secret survives either.
    if (s.length >= 24) expect(r.text).not.toContain(s.slice(4, 20));
    expect(r.text).toContain(`[REDACTED:${kind}]`);
    expect(r.counts[kind]).toBeGreaterThanOrEqual(1);
  });

  it('keeps the text around a secret, and the user of a URL', () => {
    const key = `ghp_${gen(36)}`;
    expect(redactText(`token: ${key}, then run gh auth status`).text).toBe('token: [REDACTED:github], then run gh auth status');
    expect(redactText('mysql://root:Sup3rS3cret@127.0.0.1/db').text).toBe('mysql://root:[REDACTED:url-password]@127.0.0.1/db');
    expect(redactText('DB_PASSWORD=hunter22 npm start').text).toBe('DB_PASSWORD=[REDACTED:env] npm start');
  });

  it('counts every secret, and says so', () => {
    const r = redactText(`${anthropic} and AKIA${gen(16, UPPER_NUM)} and AKIA${gen(16, UPPER_NUM)}`);
    expect(r.counts).toEqual({ anthropic: 1, aws: 2 });
    expect(describeCounts(r.counts)).toBe('3 secrets redacted (1 anthropic, 2 aws)');
    expect(describeCounts({})).toBe('no secrets found');
  });

  it('is idempotent: redacting twice changes nothing more', () => {
    for (const [, text] of SECRETS) {
      const once = redactText(text).text;
      expect(redactText(once)).toEqual({ text: once, counts: {} });
    }
  });
});

describe('redaction: ordinary text is left alone', () => {
  it.each(ORDINARY.map((t) => [t.slice(0, 60), t]))('%s', (_short, text) => {
    expect(redactText(text)).toEqual({ text, counts: {} });
  });

  it('names: what counts as a secret-looking name', () => {
    for (const n of ['OPENAI_API_KEY', 'AWS_SECRET_ACCESS_KEY', 'GITHUB_TOKEN', 'PASSWORD', 'db_password', 'apiKey', 'client_secret', 'privateKey', 'SecretAccessKey', 'passphrase', 'SLACK_BOT_TOKEN', 'credentials']) {
      expect(secretName(n), n).toBe(true);
    }
    for (const n of ['key', 'token', 'MAX_TOKENS', 'PUBLIC_KEY', 'public_key', 'primaryKey', 'sortKey', 'cacheKey', 'NEXT_PAGE_TOKEN', 'input_tokens', 'passwordHint', 'tokenizer', 'monkey', 'id', 'encrypted_content']) {
      expect(secretName(n), n).toBe(false);
    }
  });

  it('entropy: generated values count, words, paths and uuids do not', () => {
    expect(highEntropy(gen(32))).toBe(true);
    expect(highEntropy(gen(40, B64))).toBe(true);
    for (const v of ['hello-world-this-is-fine', '1af7fc5e-8455-4414-9ccd-011d40f70b2a', '/usr/local/lib/node_modules/x1', 'aaaaaaaaaaaaaaaaaaaa1', 'short1']) expect(highEntropy(v), v).toBe(false);
  });
});

describe('redaction of JSONL lines', () => {
  const claudeLine = (content: unknown) => ({
    parentUuid: '1af7fc5e-8455-4414-9ccd-011d40f70b2a', isSidechain: false, type: 'user', cwd: '/home/dev/app', sessionId: 'fe5e1c67-53e7-4862-81ae-d0e013e3270b',
    message: { role: 'user', content }, uuid: 'c0ffee00-0000-4000-8000-000000000001', timestamp: '2026-01-02T10:00:01.000Z', costUSD: 0.0125, n: 1e21, tiny: 5e-7,
  });

  it('every secret, put in a line as a string, an env file in a tool result, JSON nested in a string: still valid JSON, other fields unchanged', () => {
    for (const [what, text, s, kind] of SECRETS) {
      const lines = [
        claudeLine(text),
        claudeLine([{ type: 'tool_result', tool_use_id: 'toolu_1', content: [{ type: 'text', text }] }]),
        // Codex: a function call's arguments are JSON text inside a JSON string (escaped twice in the line).
        { timestamp: '2025-11-01T17:34:46.755Z', type: 'response_item', payload: { type: 'function_call', name: 'shell', arguments: JSON.stringify({ command: ['bash', '-lc', `cat <<'EOF'\n${text}\nEOF`] }), call_id: 'call_1' } },
        { timestamp: '2025-11-01T17:34:46.755Z', type: 'response_item', payload: { type: 'function_call_output', call_id: 'call_1', output: JSON.stringify({ output: `${text}\n`, metadata: { exit_code: 0 } }) } },
      ];
      for (const o of lines) {
        const line = JSON.stringify(o);
        const counts: RedactionCounts = {};
        const out = redactJsonLine(line, counts);
        expect(out, what).not.toContain(s.replace(/\r?\n/g, '\\n'));
        expect(out, what).not.toContain(JSON.stringify(s).slice(1, -1));
        expect(out, what).toContain(`[REDACTED:${kind}]`);
        expect(counts[kind], what).toBeGreaterThanOrEqual(1);
        const parsed = JSON.parse(out) as Record<string, unknown>;
        // Every field but the one that held the secret is as it was.
        const { message: _m, payload: _p, ...rest } = parsed;
        const { message: _m2, payload: _p2, ...restIn } = o as Record<string, unknown>;
        expect(rest).toEqual(restIn);
        if ('payload' in o) {
          const p = parsed.payload as Record<string, unknown>;
          expect({ ...p, arguments: undefined, output: undefined }).toEqual({ ...o.payload, arguments: undefined, output: undefined });
          // The nested JSON is still JSON.
          JSON.parse((p.arguments ?? p.output) as string);
        }
      }
    }
  });

  it('a JSON-escaped private key inside a string of a string (\\n escaped twice) is caught', () => {
    const nested = JSON.stringify({ output: JSON.stringify({ file: rsaPem }) });
    const line = JSON.stringify({ type: 'x', payload: { output: nested } });
    const out = redactJsonLine(line);
    expect(out).toContain('[REDACTED:private-key]');
    expect(out).not.toContain(pemBody.slice(0, 30));
    expect(JSON.parse(JSON.parse((JSON.parse(out) as { payload: { output: string } }).payload.output).output)).toEqual({ file: '[REDACTED:private-key]' });
  });

  it('a value under a secret-looking key is replaced whole; structure, numbers and unrelated keys are kept', () => {
    const o = { env: { OPENAI_API_KEY: 'abc123-not-a-known-shape', NODE_ENV: 'production', GITHUB_TOKEN: '$GITHUB_TOKEN' }, config: { apiKey: gen(32), password: 'hunter22', cacheKey: 'user:1' }, tokens: { input_tokens: 10 } };
    const counts: RedactionCounts = {};
    const r = redactValue(o, counts);
    expect(r).toEqual({ env: { OPENAI_API_KEY: '[REDACTED:env]', NODE_ENV: 'production', GITHUB_TOKEN: '$GITHUB_TOKEN' }, config: { apiKey: '[REDACTED:secret]', password: '[REDACTED:secret]', cacheKey: 'user:1' }, tokens: { input_tokens: 10 } });
    expect(counts).toEqual({ env: 1, secret: 2 });
    expect(o.env.OPENAI_API_KEY).toBe('abc123-not-a-known-shape'); // the input is not modified
  });

  it('a line without secrets comes back as the same bytes; a cut line is redacted as text', () => {
    const line = '{"a":"caf\\u00e9","b":1.0,"c":"sk- is a prefix"}';
    expect(redactJsonLine(line)).toBe(line);
    const cut = `{"type":"user","message":{"content":"my key ${anthropic} and more`;
    expect(redactJsonLine(cut)).toBe('{"type":"user","message":{"content":"my key [REDACTED:anthropic] and more');
  });

  it('the real sessions in the fixtures hold no secret: every line comes back byte for byte', () => {
    const dir = join(import.meta.dirname, 'fixtures');
    for (const name of ['1af7fc5e-8455-4414-9ccd-011d40f70b2a.jsonl', 'fe5e1c67-53e7-4862-81ae-d0e013e3270b.jsonl']) {
      const text = readFileSync(join(dir, name), 'utf8');
      const counts: RedactionCounts = {};
      expect(redactJsonl(text, counts) === text, `${name}: ${JSON.stringify(counts)}`).toBe(true);
    }
  });

  it('files by name: .jsonl by line, .json as a value (indentation kept), other files as text', () => {
    const key = `ghp_${gen(36)}`;
    expect(redactFileContent('a.jsonl', `{"t":"${key}"}\n{"t":"ok"}\n`)).toBe('{"t":"[REDACTED:github]"}\n{"t":"ok"}\n');
    expect(redactFileContent('agent.meta.json', `{\n  "token": "${key}",\n  "n": 1\n}\n`)).toBe('{\n  "token": "[REDACTED:github]",\n  "n": 1\n}\n');
    expect(redactFileContent('out.txt', `line 1\nGITHUB_TOKEN=${key}\n`)).toBe('line 1\nGITHUB_TOKEN=[REDACTED:github]\n');
  });
});
