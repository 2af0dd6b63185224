/**
 * `roam tools [--json | --markdown]` (commands/tools.ts): one row per tool of the registry, from the
 * `about` each tool's folder declares; the README's table is exactly `roam tools --markdown`; every
 * tool's facts file exists; the version each resumable tool was measured with is the one the root
 * package.json pins for the e2e tests.
 */
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { roam } from './support/roam.js';
import { isolate, sandbox } from './support/sandbox.js';
import { toolNames } from '../src/tools/registry.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

/** The npm package of each tool whose real CLI the e2e tests run (root devDependencies). */
const PACKAGES: Record<string, string> = {
  claude: '@anthropic-ai/claude-code',
  codex: '@openai/codex',
  gemini: '@google/gemini-cli',
  copilot: '@github/copilot',
  qwen: '@qwen-code/qwen-code',
  opencode: 'opencode-ai',
  kilo: '@kilocode/cli',
  'cline-cli': 'cline',
  continue: '@continuedev/cli',
};

let base: string;
sandbox('roam-tools-', (dir) => {
  base = dir;
  isolate(base, 'code');
});

describe('roam tools', () => {
  it('lists every registered tool with its measured version, what roam does, its facts, and whether its folder is here', async () => {
    process.env.QWEN_HOME = join(base, 'qwen');
    mkdirSync(join(base, 'qwen', 'projects'), { recursive: true });
    const r = await roam('tools', '--json');
    expect(r.code, r.err).toBe(0);
    const rows = JSON.parse(r.out) as Array<{ tool: string; measured: string; does: string[]; doc: string; sessions: string; here: boolean }>;
    expect(rows.map((x) => x.tool)).toEqual(toolNames());
    expect(rows.find((x) => x.tool === 'qwen')).toEqual({
      tool: 'qwen', label: 'Qwen Code', measured: '0.15.10', does: ['sync', 'resume', 'convert-from', 'convert-to', 'share'], doc: 'docs/tools/qwen.md', sessions: join(base, 'qwen', 'projects'), here: true,
    });
    expect(rows.find((x) => x.tool === 'codex')).toMatchObject({ here: false });
    for (const x of rows) {
      expect(existsSync(join(ROOT, x.doc)), x.doc).toBe(true);
      expect(x.does.length, x.tool).toBeGreaterThan(0);
      expect(x.does.includes('resume') && x.does.includes('capture'), `${x.tool}: resumed or captured, not both`).toBe(false);
    }
    const text = await roam('tools');
    expect(text.out.split('\n')[0]).toMatch(/^TOOL +NAME +MEASURED +HERE +ROAM DOES$/);
    expect(text.out).toMatch(/\nqwen +Qwen Code +0\.15\.10 +yes +sync, resume, convert from, convert to, share(\n|$)/);
  });

  it("the README's table is roam tools --markdown", async () => {
    const r = await roam('tools', '--markdown');
    expect(r.code, r.err).toBe(0);
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    const m = /<!-- roam tools --markdown -->\n([\s\S]*?)<!-- end roam tools -->/.exec(readme);
    expect(m, 'the README has the table between its markers').not.toBeNull();
    expect(m![1]).toBe(`${r.out}\n`);
  });

  it('measured the versions the e2e tests run (root package.json)', () => {
    const pins = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { devDependencies: Record<string, string> }).devDependencies;
    return roam('tools', '--json').then((r) => {
      for (const x of JSON.parse(r.out) as Array<{ tool: string; measured: string; does: string[] }>) {
        if (!x.does.includes('resume')) continue;
        expect(PACKAGES[x.tool], `${x.tool}: which npm package`).toBeDefined();
        expect(pins[PACKAGES[x.tool]!], x.tool).toBe(x.measured);
      }
    });
  });
});
