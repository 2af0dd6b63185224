/**
 * The Qwen Code adapter and format (src/tools/qwen/) over a session the real Qwen Code 0.15.10
 * wrote (fixtures/qwen/tool-call.jsonl: a prompt, a run_shell_command call, its output, an answer;
 * see fixtures/SOURCES.md) and over records in its shapes: the parentUuid chain (a record off the
 * chain is not replayed), records of one uuid merged, a compression, a custom title; list, find,
 * search and show under QWEN_HOME; the resume's directory check; the conversion both ways.
 */
import { existsSync, mkdirSync, readFileSync, realpathSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { isolate, sandbox } from './support/sandbox.js';
import { roam } from './support/roam.js';
import { Notes } from '../src/convert/ir.js';
import { qwen } from '../src/tools/qwen/index.js';
import { QwenAdapter } from '../src/tools/qwen/adapter.js';
import { continuationId } from '../src/tools/qwen/continue.js';
import { parseQwenSession, qwenHistory, qwenProjectKey } from '../src/tools/qwen/session.js';
import { fromQwen } from '../src/tools/qwen/source.js';
import { toQwen } from '../src/tools/qwen/target.js';

const FIXTURE = readFileSync(new URL('./fixtures/qwen/tool-call.jsonl', import.meta.url), 'utf8');
const ID = 'd5ed804b-d6b1-4c16-b46e-59aadbd4f4e6';

let base: string;
sandbox('roam-qwen-', (dir) => {
  base = dir;
  isolate(base, 'code');
  process.env.QWEN_HOME = join(base, 'qwen');
});

function put(dir: string, id: string, text: string): string {
  const chats = join(base, 'qwen', 'projects', qwenProjectKey(dir), 'chats');
  mkdirSync(chats, { recursive: true });
  const file = join(chats, `${id}.jsonl`);
  writeFileSync(file, text);
  return file;
}

const rec = (uuid: string, parentUuid: string | null, type: string, message: object | null, extra: object = {}) =>
  JSON.stringify({ uuid, parentUuid, sessionId: 'e3b0c442-98fc-4c14-9afb-f4c8996fb924', timestamp: `2026-12-08T00:00:0${uuid.length % 10}Z`, type, cwd: '/work/app', version: '0.15.10', ...(message ? { message } : {}), ...extra });

describe('Qwen Code sessions', () => {
  it('replays the chain of the real CLI\'s file: prompt, call, output, answer', () => {
    const s = parseQwenSession(FIXTURE)!;
    expect(s.sessionId).toBe(ID);
    expect(s.cwd).toBe('/work/app');
    expect(qwenHistory(s).map((t) => [t.content.role, t.content.parts.map((p) => Object.keys(p)[0]).join(',')])).toEqual([
      ['user', 'text'], ['model', 'text,functionCall'], ['user', 'functionResponse'], ['model', 'text'],
    ]);
    const conv = fromQwen(FIXTURE, ID, new Notes());
    expect(conv.items.map((i) => (i.type === 'text' ? `${i.role}: ${i.text}` : i.type === 'call' ? `call ${i.shell?.command}` : `result ${i.id}`))).toEqual([
      'user: Say zebracorn, then check it', 'assistant: Let me check.', 'call echo zebracorn-ok', 'result call_1', 'assistant: Qwen mock answer.',
    ]);
    expect(conv.model).toBe('qwen-mock');
  });

  it('follows parentUuid from the last record: a branch left behind, parts of one uuid merged, a compression replaces what came before', () => {
    const text = [
      rec('u1', null, 'user', { role: 'user', parts: [{ text: 'first' }] }),
      rec('a1', 'u1', 'assistant', { role: 'model', parts: [{ text: 'abandoned' }] }),
      rec('a2', 'u1', 'assistant', { role: 'model', parts: [{ text: 'kept ' }] }),
      rec('a2', 'u1', 'assistant', { role: 'model', parts: [{ text: 'and merged' }] }),
      rec('t1', 'a2', 'system', null, { subtype: 'custom_title', systemPayload: { customTitle: 'My title' } }),
    ].join('\n');
    const s = parseQwenSession(text)!;
    expect(qwenHistory(s).map((t) => t.content.parts.map((p) => p.text).join(''))).toEqual(['first', 'kept and merged']);
    expect(s.title).toBe('My title');
    const compressed = `${text}\n${[
      rec('c1', 't1', 'system', null, { subtype: 'chat_compression', systemPayload: { compressedHistory: [{ role: 'user', parts: [{ text: 'summary' }] }, { role: 'model', parts: [{ text: 'ok' }] }] } }),
      rec('u2', 'c1', 'user', { role: 'user', parts: [{ text: 'next' }] }),
    ].join('\n')}\n`;
    expect(qwenHistory(parseQwenSession(compressed)!).map((t) => t.content.parts.map((p) => p.text).join(''))).toEqual(['summary', 'ok', 'next']);
  });

  it('lists, finds, searches and shows under QWEN_HOME; the folder roamd syncs and the session of a file', async () => {
    const file = put('/work/app', ID, FIXTURE);
    const a = new QwenAdapter({ env: process.env, cacheFile: null });
    const [s] = await a.list();
    expect(s).toMatchObject({ tool: 'qwen', id: ID, file, projectKey: '-work-app', cwd: '/work/app', title: 'Say zebracorn, then check it', messages: 3 });
    expect((await a.find(ID))?.file).toBe(file);
    expect((await a.search('ZEBRACORN')).map((h) => [h.role, h.snippet])).toEqual([['user', 'Say zebracorn, then check it']]);
    const shown = await a.show(ID);
    expect(shown.map((e) => [e.role, e.text, e.toolUses.map((u) => u.name), e.toolResults.length])).toEqual([
      ['user', 'Say zebracorn, then check it', [], 0], ['assistant', 'Let me check.', ['run_shell_command'], 0], ['user', '', [], 1], ['assistant', 'Qwen mock answer.', [], 0],
    ]);
    expect(qwen.sessionsDir!(process.env)).toBe(join(base, 'qwen', 'projects'));
    expect(qwen.sessionOfItem(`-work-app/chats/${ID}.jsonl`, '', () => null)).toEqual({ tool: 'qwen', session: ID, project: '-work-app' });
    expect(qwen.sessionOfItem('-work-app/meta.json', '', () => null)).toBeNull();
    expect(qwen.about).toEqual({ measured: '0.15.10', does: ['sync', 'resume', 'convert-from', 'convert-to', 'share'], doc: 'docs/tools/qwen.md' });
  });

  it('refuses a resume from another directory than the recorded one (the CLI finds no session there)', async () => {
    put('/work/app', ID, FIXTURE);
    const a = new QwenAdapter({ env: process.env, cacheFile: null });
    const s = (await a.find(ID))!;
    expect(await a.prepareResume(s, '/work/app')).toEqual([]);
    await expect(a.prepareResume(s, '/elsewhere')).rejects.toThrow(`Qwen Code resumes session ${ID} only from /work/app`);
  });

  it('continues a session in another directory as a new session there: a copy under its key, every record\'s sessionId and cwd rewritten, the original untouched; again the same continuation', async () => {
    const original = put('/work/app', ID, FIXTURE);
    const dir = join(base, 'code', 'app');
    const a = new QwenAdapter({ env: process.env, cacheFile: null });
    const s = (await a.find(ID))!;
    expect(await a.continueIn(s, '/work/app')).toBeNull();
    const newId = continuationId(ID, dir);
    expect(newId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    const dry = (await a.continueIn(s, dir, { dryRun: true }))!;
    expect(dry.session.id).toBe(newId);
    expect(await a.find(newId)).toBeNull();
    const made = (await a.continueIn(s, dir))!;
    expect(made.lines).toEqual([expect.stringContaining(`continuing ${ID} here as a new Qwen Code session ${newId}`)]);
    expect(made.session).toMatchObject({ id: newId, cwd: dir, projectKey: qwenProjectKey(dir), file: join(base, 'qwen', 'projects', qwenProjectKey(dir), 'chats', `${newId}.jsonl`) });
    expect(readFileSync(original, 'utf8')).toBe(FIXTURE);
    const copy = readFileSync(made.session.file, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    const orig = FIXTURE.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(copy.map((r) => r.uuid)).toEqual(orig.map((r) => r.uuid));
    expect(new Set(copy.map((r) => r.sessionId))).toEqual(new Set([newId]));
    expect(copy.filter((r) => 'cwd' in r).every((r) => r.cwd === dir)).toBe(true);
    expect(await a.prepareResume(made.session, dir)).toEqual([]);
    const again = (await a.continueIn(s, dir))!;
    expect(again.session.id).toBe(newId);
    expect(again.lines).toEqual([expect.stringContaining('made by an earlier roam resume')]);
  });

  it('roam resume --dry-run from another directory plans the continuation, named, and writes nothing', async () => {
    put('/work/app', ID, FIXTURE);
    const here = realpathSync(process.cwd());
    const newId = continuationId(ID, here);
    const r = await roam('resume', ID, '--dry-run', '--timeout', '1');
    expect(r.code, r.err).toBe(0);
    expect(JSON.parse(r.out)).toMatchObject({ cwd: here, command: ['qwen', '-r', newId], session: newId, continues: ID });
    expect(existsSync(join(base, 'qwen', 'projects', qwenProjectKey(here)))).toBe(false);
  });

  it('writes what it reads: the conversation back through toQwen, a chain the CLI replays, ids it takes', () => {
    const conv = fromQwen(FIXTURE, ID, new Notes());
    const id = qwen.format!.sessionId!('1f0e2d3c-4b5a-8978-8695-a4b3c2d1e0f9');
    expect(id).toBe('1f0e2d3c-4b5a-4978-8695-a4b3c2d1e0f9');
    // The CLI's SESSION_ID_REGEX (0.15.10).
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[1-5][0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/i);
    const text = toQwen({ ...conv, tool: 'claude' }, { id, cwd: '/work/other', fallbackTime: '2026-12-08T00:00:00Z' }, new Notes());
    const lines = text.trim().split('\n').map((l) => JSON.parse(l) as { uuid: string; parentUuid: string | null; cwd: string; type: string });
    expect(lines.map((l) => l.type)).toEqual(['user', 'assistant', 'tool_result', 'assistant']);
    lines.forEach((l, i) => expect(l.parentUuid).toBe(i === 0 ? null : lines[i - 1]!.uuid));
    expect(lines[0]!.cwd).toBe('/work/other');
    expect(fromQwen(text, id, new Notes()).items).toEqual(conv.items.map((i) => ({ ...i, ts: expect.anything() })));
  });

  it('roam share and roam import: the session filed under the importing directory, its records\' cwd made that directory, a new id the CLI takes when the id is taken', async () => {
    put('/work/app', ID, FIXTURE);
    const bundle = join(base, 'qwen.json.gz');
    const shared = await roam('share', ID, '--out', bundle);
    expect(shared.code, shared.err).toBe(0);
    const here = process.cwd();
    const r = await roam('import', bundle, '--json');
    expect(r.code, r.err).toBe(0);
    const plan = JSON.parse(r.out) as { id: string; renamed: boolean; transcript: string };
    expect(plan.renamed).toBe(true);
    expect(plan.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[1-5][0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/i);
    expect(plan.transcript).toBe(join(base, 'qwen', 'projects', qwenProjectKey(here), 'chats', `${plan.id}.jsonl`));
    const lines = readFileSync(plan.transcript, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { sessionId: string; cwd: string });
    expect(lines).toHaveLength(8);
    for (const l of lines) expect([l.sessionId, l.cwd]).toEqual([plan.id, here]);
    const a = new QwenAdapter({ env: process.env, cacheFile: null });
    expect((await a.find(plan.id))?.cwd).toBe(here);
  });
});
