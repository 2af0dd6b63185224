/**
 * A session's state beside its transcript (tools/claude/state.ts), the trash's view of it
 * (machine/trash.ts), and the refusal of credentials in the user configuration (machine/user-config.ts).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { claudeStateFolders } from '../src/tools/claude/state.js';
import { sessionIdOfItem } from '../src/machine/trash.js';
import { checkUserConfig, isCredential, userConfigEntries } from '../src/machine/user-config.js';
import { onlyFor } from '../src/machine/config.js';

const ID = '0b7a5c1e-3d2f-4a6b-9c8d-7e6f5a4b3c2d';
const OTHER = '1c8b6d2f-4e3a-4b7c-8d9e-8f7a6b5c4d3e';
const dir = mkdtempSync(join(tmpdir(), 'roam-state-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("Claude Code's per-session state folders", () => {
  const folders = new Map(claudeStateFolders('/home/b/.claude').map((f) => [f.kind, f]));

  it('one folder per kind at ~/.claude/<kind>, named claude-<kind>', () => {
    expect([...folders.values()].map((f) => [f.id, f.path])).toEqual([
      ['claude-file-history', '/home/b/.claude/file-history'],
      ['claude-tasks', '/home/b/.claude/tasks'],
      ['claude-todos', '/home/b/.claude/todos'],
      ['claude-session-env', '/home/b/.claude/session-env'],
      ['claude-plans', '/home/b/.claude/plans'],
    ]);
  });

  it("tells each item's session by its name, and plans by the slugs the transcript records", () => {
    expect(folders.get('file-history')!.owns(`${ID}/c1e3f835f7830fdd@v1`, ID, null)).toBe(true);
    expect(folders.get('file-history')!.owns(`${OTHER}/c1e3f835f7830fdd@v1`, ID, null)).toBe(false);
    expect(folders.get('tasks')!.owns(`${ID}/.lock`, ID, null)).toBe(true);
    expect(folders.get('tasks')!.owns(`${ID}`, ID, null)).toBe(false);
    expect(folders.get('todos')!.owns(`${ID}-agent-${ID}.json`, ID, null)).toBe(true);
    expect(folders.get('todos')!.owns(`${OTHER}-agent-${ID}.json`, ID, null)).toBe(false);
    const transcript = join(dir, `${ID}.jsonl`);
    writeFileSync(transcript, `{"type":"user","slug":"plan-the-walrus-cheeky-rabbit","sessionId":"${ID}"}\n{"type":"assistant","slug":"plan-the-walrus-cheeky-rabbit"}\n`);
    const plans = folders.get('plans')!;
    expect(plans.owns('plan-the-walrus-cheeky-rabbit.md', ID, transcript)).toBe(true);
    expect(plans.owns('plan-the-walrus-cheeky-rabbit-agent-a1.md', ID, transcript)).toBe(true);
    expect(plans.owns('another-plan.md', ID, transcript)).toBe(false);
    expect(plans.owns('plan-the-walrus-cheeky-rabbit.md', ID, null)).toBe(false);
    expect(plans.owns('plan-the-walrus-cheeky-rabbit.md', ID, join(dir, 'missing.jsonl'))).toBe(false);
  });

  it("the trash finds a state item's session (roam restore <id>)", () => {
    expect(sessionIdOfItem('claude-file-history', `${ID}/abc@v2`)).toBe(ID);
    expect(sessionIdOfItem('claude-tasks', `${ID}/1.json`)).toBe(ID);
    expect(sessionIdOfItem('claude-todos', `${ID}-agent-${ID}.json`)).toBe(ID);
    expect(sessionIdOfItem('claude-plans', 'plan-the-walrus.md')).toBeNull();
    expect(sessionIdOfItem('claude-tasks', 'not-an-id/1.json')).toBeNull();
  });
});

describe('user configuration: opt-in by kind, never credentials', () => {
  it('refuses credentials by any name, with ROAM_CREDENTIALS', () => {
    for (const name of ['.credentials.json', 'auth.json', 'oauth_creds.json', 'api-token.txt', 'client_secret.json', 'id.pem', 'server.key', '.env', 'commands/github-tokens.md']) {
      expect(isCredential(name), name).toBe(true);
    }
    for (const name of ['CLAUDE.md', 'settings.json', 'commands/tusk.md', 'skills/review/SKILL.md']) expect(isCredential(name), name).toBe(false);
    expect(() => checkUserConfig({ claude: ['.credentials.json'] })).toThrow(expect.objectContaining({ code: 'ROAM_CREDENTIALS' }));
    expect(() => checkUserConfig({ codex: ['auth.json'] })).toThrow(expect.objectContaining({ code: 'ROAM_CREDENTIALS' }));
    expect(() => checkUserConfig({ claude: ['nonsense'] })).toThrow(expect.objectContaining({ code: 'ROAM_CONFIG' }));
    expect(() => checkUserConfig({ claude: ['CLAUDE.md', 'commands'], gemini: ['settings'] })).not.toThrow();
  });

  it("the staging folder's selective sync is the kinds this device opted into", () => {
    expect(userConfigEntries(undefined)).toBeNull();
    expect(onlyFor({ userConfig: { claude: ['CLAUDE.md', 'commands'] } }, 'userconfig')).toEqual(['claude.CLAUDE.md', 'claude.commands']);
    expect(onlyFor({ userConfig: { claude: ['commands'] } }, 'claude')).toBeNull();
  });
});

describe('opting out', () => {
  it("a tool excluded takes its state folders with it; the user configuration's folder is excluded until opted into", async () => {
    const { excludedFolders } = await import('../src/machine/config.js');
    expect([...excludedFolders({ exclude: ['claude'] }, { HOME: '/home/b' })].sort()).toEqual(['claude', 'claude-file-history', 'claude-history', 'claude-plans', 'claude-session-env', 'claude-tasks', 'claude-todos', 'userconfig']);
    expect([...excludedFolders({ userConfig: { claude: ['CLAUDE.md'] } }, { HOME: '/home/b' })]).toEqual([]);
    // Excluding a tool takes its prompt history (a union log) too; the union log can be excluded alone.
    expect([...excludedFolders({ exclude: ['codex'] }, { HOME: '/home/b' })].sort()).toEqual(['codex', 'codex-history', 'userconfig']);
    expect([...excludedFolders({ exclude: ['codex-history'] }, { HOME: '/home/b' })].sort()).toEqual(['codex-history', 'userconfig']);
  });
});
