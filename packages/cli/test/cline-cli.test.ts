/**
 * The Cline CLI's session files (src/tools/cline-cli), in the shapes `cline` 3.0.65 writes
 * (docs/tools/cline.md, "The Cline CLI"), made here: the `<user_input>` wrapper, the metadata's
 * title, cwd and `messages_path`; what roam resume does to a metadata file naming another device's
 * path; the registry's item names; a converted session's id and metadata.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { isolate, sandbox } from './support/sandbox.js';
import { Notes } from '../src/convert/ir.js';
import { clineCli } from '../src/tools/cline-cli/index.js';
import { clineCliCompanions, clineCliId, toClineCli } from '../src/tools/cline-cli/target.js';

let base: string;
sandbox('roam-cline-cli-', (dir) => {
  base = dir;
  isolate(base, 'code');
});

const ID = '1796701859037_8u7y9';

function writeSession(messagesPath: string): string {
  const dir = join(base, 'home', '.cline', 'data', 'sessions', ID);
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${ID}.messages.json`);
  writeFileSync(file, JSON.stringify({
    version: 1, sessionId: ID, messages: [
      { id: 'u1', role: 'user', content: [{ type: 'text', text: '<user_input mode="act">Remember the word zebracorn.</user_input>' }], ts: 1796701859187 },
      { id: 'a1', role: 'assistant', content: [{ type: 'text', text: 'Noted.' }], ts: 1796701859383 },
    ],
  }, null, 2));
  writeFileSync(join(dir, `${ID}.json`), JSON.stringify({ version: 1, session_id: ID, cwd: '/work/app', prompt: 'Remember the word zebracorn.', started_at: '2026-12-08T03:50:59.040Z', metadata: { title: 'Zebracorn' }, messages_path: messagesPath }, null, 2));
  return file;
}

describe('Cline CLI sessions', () => {
  it('lists, searches and shows a session: the title from the metadata, user texts without their <user_input> wrapper', async () => {
    writeSession('/elsewhere');
    const a = clineCli.adapter({ cacheFile: null });
    const [s] = await a.list();
    expect(s).toMatchObject({ tool: 'cline-cli', id: ID, cwd: '/work/app', title: 'Zebracorn', firstPrompt: 'Remember the word zebracorn.', messages: 2, lastActivity: new Date(1796701859383).toISOString() });
    expect(await a.search('ZEBRACORN')).toEqual([expect.objectContaining({ role: 'user', snippet: 'Remember the word zebracorn.' })]);
    expect((await a.show(ID)).map((e) => [e.role, e.text])).toEqual([['user', 'Remember the word zebracorn.'], ['assistant', 'Noted.']]);
    expect(a.resumeCommand(ID, { cwd: '/work/app' })).toEqual({ argv: ['cline', '--id', ID], cwd: '/work/app' });
    expect('prepareResume' in a).toBe(false); // roamd registers nothing on arrival (see beforeRun)
  });

  it('roam resume points a metadata file naming another path at this copy, and leaves one naming it as it is', async () => {
    const file = writeSession('/home/other/.cline/data/sessions/x.messages.json');
    const a = clineCli.adapter({ cacheFile: null });
    const s = (await a.find(ID))!;
    expect(await a.beforeRun!(s)).toEqual([`pointed the Cline CLI session's messages_path at ${file}`]);
    const meta = JSON.parse(readFileSync(join(base, 'home', '.cline', 'data', 'sessions', ID, `${ID}.json`), 'utf8'));
    expect(meta).toMatchObject({ messages_path: file, cwd: '/work/app', metadata: { title: 'Zebracorn' } });
    expect(await a.beforeRun!(s)).toEqual([]);
  });

  it('names the session of a synced item only for <id>/<id>.messages.json', () => {
    expect(clineCli.sessionOfItem(`${ID}/${ID}.messages.json`, '', () => null)).toEqual({ tool: 'cline-cli', session: ID, project: null });
    expect(clineCli.sessionOfItem(`${ID}/${ID}.json`, '', () => null)).toBeNull();
    expect(clineCli.sessionOfItem(`${ID}/other.messages.json`, '', () => null)).toBeNull();
  });

  it('writes a converted session with an id of the CLI\'s shape, wrapped user texts and every metadata field the CLI needs', () => {
    const id = clineCliId('0190c2a4-5b6e-8f00-9abc-def012345678');
    expect(id).toMatch(/^\d{13}_[0-9a-z]{5}$/);
    const conv = { tool: 'claude', id: 'c', started: '2026-12-08T03:00:00.000Z', model: null, gitBranch: null, items: [
      { type: 'text' as const, role: 'user' as const, text: 'Hi', ts: '2026-12-08T03:00:00.000Z' },
      { type: 'text' as const, role: 'assistant' as const, text: 'Hello', ts: '2026-12-08T03:00:01.000Z' },
    ] };
    const opts = { id, cwd: '/work/app', fallbackTime: '2026-12-08T03:00:00.000Z' };
    const out = JSON.parse(toClineCli(conv, opts, new Notes()));
    expect(out.messages.map((m: { role: string; content: Array<{ text: string }> }) => [m.role, m.content[0]!.text])).toEqual([['user', '<user_input mode="act">Hi</user_input>'], ['assistant', 'Hello']]);
    const transcript = join(base, 'home', '.cline', 'data', 'sessions', id, `${id}.messages.json`);
    const [meta] = clineCliCompanions(conv, opts, transcript);
    expect(meta!.path).toBe(transcript.replace(/\.messages\.json$/, '.json'));
    expect(Object.keys(JSON.parse(meta!.bytes.toString()))).toEqual(expect.arrayContaining(['pid', 'exit_code', 'team_name', 'enable_tools', 'enable_spawn', 'enable_teams', 'provider', 'model', 'messages_path']));
  });
});
