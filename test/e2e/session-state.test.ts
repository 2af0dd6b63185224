/**
 * The whole session travels (docs/CLAUDE-CODE.md "Beyond the transcript"): two real roamd with
 * different HOME paths, the real Claude Code CLI against the loopback mock.
 *
 * On A an interactive session creates a task (TaskCreate: the task list), edits a file (a
 * `/rewind` checkpoint in file-history/<id>) and, resumed in plan mode, writes a plan
 * (plans/<slug>.md). On B the interactive CLI's own `--resume` picker lists the session, the
 * resumed session shows A's task, and `/rewind` offers A's checkpoint. `roam rm` on B then removes
 * the transcript and every piece of its state on both devices, and `roam restore` brings them back.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, realpathSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { until } from '../../packages/core/test/support/poll.js';
import { projectKey } from '../../packages/cli/src/tools/claude/index.js';
import { runClaude, startClaudePty, type ClaudePty } from '../support/claude.js';
import { startMockAnthropic, type MockAnthropic, type RecordedRequest } from '../support/mock-anthropic.js';
import { makeDaemon, stopAll, type DaemonHandle } from '../support/daemons.js';

let mock: MockAnthropic;
let planPath = '';
let step = 0;
let projA = '';

function isToolResult(req: RecordedRequest): boolean {
  const last = req.body.messages.at(-1);
  return Array.isArray(last?.content) && last.content.some((c: { type: string }) => c.type === 'tool_result');
}

beforeAll(async () => {
  mock = await startMockAnthropic({
    reply: (req) => {
      if (!req.body?.tools?.length) return undefined;
      const plan = /\/[^"\s\\]*\/\.claude\/plans\/[a-z0-9-]+\.md/.exec(JSON.stringify(req.body.messages));
      if (plan) planPath = plan[0];
      step = isToolResult(req) ? step + 1 : 1;
      const prompt = JSON.stringify(req.body.messages);
      if (prompt.includes('list the walrus tasks')) return step === 1 ? [{ type: 'tool_use', name: 'TaskList', input: {} }] : 'Walrus done.';
      if (prompt.includes('plan the walrus') && step === 1 && planPath) return [{ type: 'tool_use', name: 'Write', input: { file_path: planPath, content: '# Walrus plan\n\n1. feed the walrus\n' } }];
      if (prompt.includes('do the walrus thing') && !prompt.includes('plan the walrus')) {
        if (step === 1) return [{ type: 'tool_use', name: 'TaskCreate', input: { subject: 'Feed the walrus', description: 'two fish', activeForm: 'Feeding the walrus' } }];
        if (step === 2) return [{ type: 'tool_use', name: 'Edit', input: { file_path: join(projA, 'a.txt'), old_string: 'one', new_string: 'two' } }];
      }
      return 'Walrus done.';
    },
  });
});
afterAll(async () => {
  await stopAll();
  await mock.close();
});

/** What a machine's user has done once: onboarding, this key approved, these directories trusted. */
function seed(d: DaemonHandle, trusted: string[]): void {
  const projects: Record<string, unknown> = {};
  for (const p of trusted) projects[p] = { hasTrustDialogAccepted: true };
  writeFileSync(join(d.home, '.claude.json'), JSON.stringify({ hasCompletedOnboarding: true, customApiKeyResponses: { approved: ['sk-ant-dummy-roam-test'.slice(-20)], rejected: [] }, projects }));
}

function project(d: DaemonHandle): string {
  const dir = join(d.home, 'code', 'app');
  mkdirSync(dir, { recursive: true });
  execFileSync('git', ['init', '-q', '-b', 'main'], { cwd: dir });
  return realpathSync(dir);
}

const ls = (dir: string): string[] => (existsSync(dir) ? readdirSync(dir).sort() : []);
const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function exit(pty: ClaudePty): Promise<void> {
  pty.write('\x04');
  await pause(300);
  pty.write('\x04');
  await Promise.race([pty.exited, pause(5_000)]);
  pty.kill();
  await pty.exited;
}

describe('Claude Code: the session and its state on another device', () => {
  it('B picks A\'s session in its own --resume picker, sees its task and /rewind offers its checkpoint; roam rm removes it all', async () => {
    const a = makeDaemon('alpha');
    const b = makeDaemon('beta');
    projA = project(a);
    const projB = project(b);
    writeFileSync(join(projA, 'a.txt'), 'one\n');
    seed(a, [projA]);
    seed(b, [projB]);
    await a.start();
    await b.start(['--peer', a.addresses[0]!]);

    // A: an interactive session with a task and an edit.
    const pa = startClaudePty({ args: ['--allowedTools', 'TaskCreate,Edit,Write'], cwd: projA, home: a.home, baseUrl: mock.url, timeoutMs: 90_000 });
    try {
      await pa.waitFor(/shift\+tab/, 40_000);
      await pause(1_500);
      pa.write('do the walrus thing');
      await pause(500);
      pa.write('\r');
      await pa.waitFor('Walrus done', 40_000);
    } finally {
      await exit(pa);
    }
    const claudeA = join(a.home, '.claude');
    const [log] = ls(join(claudeA, 'projects', projectKey(projA)));
    const id = log!.replace(/\.jsonl$/, '');
    expect(ls(join(claudeA, 'file-history', id)).length).toBe(1);
    expect(ls(join(claudeA, 'tasks', id))).toContain('1.json');
    // … resumed in plan mode, it writes a plan (plans/<slug>.md, the slug recorded in the transcript).
    const plan = await runClaude({ args: ['-p', '--resume', id, '--permission-mode', 'plan', '--allowedTools', 'Write', '--', 'plan the walrus'], cwd: projA, home: a.home, baseUrl: mock.url, timeoutMs: 60_000 });
    expect(plan.code, plan.stderr).toBe(0);
    const [planFile] = ls(join(claudeA, 'plans'));
    expect(planFile).toMatch(/\.md$/);

    // B holds it all, at its own paths.
    const claudeB = join(b.home, '.claude');
    await until(() => ls(join(claudeB, 'projects', projectKey(projB))).includes(`${id}.jsonl`) && ls(join(claudeB, 'file-history', id)).length === 1 && ls(join(claudeB, 'tasks', id)).includes('1.json') && ls(join(claudeB, 'plans')).includes(planFile!), { timeoutMs: 60_000, what: 'the session and its state on B' });

    // B: the CLI's own picker lists it; picked, the task list and A's checkpoint are there.
    const pb = startClaudePty({ args: ['--resume', '--allowedTools', 'TaskList'], cwd: projB, home: b.home, baseUrl: mock.url, timeoutMs: 90_000 });
    try {
      // The picker shows a session by its last prompt.
      await pb.waitFor(/Resumesession.*planthewalrus/, 40_000);
      await pause(1_000);
      pb.write('\r');
      await pb.waitFor('Walrus done', 30_000);
      await pb.waitFor(/shift\+tab/, 30_000);
      // The resumed session reads A's task list (tasks/<id>/): the model asks for it, the CLI answers with A's task.
      await pause(1_000);
      let n = pb.screen().length;
      const mark = mock.requests.length;
      pb.write('list the walrus tasks');
      await pause(500);
      pb.write('\r');
      await pb.waitFor('Walrus done', 30_000, n);
      const answered = mock.requests.slice(mark).map((r) => JSON.stringify(r.body.messages ?? '')).join('\n');
      expect(answered).toContain('Feed the walrus');
      await pause(1_000);
      n = pb.screen().length;
      pb.write('/rewind');
      await pause(700);
      pb.write('\r');
      await pb.waitFor(/Rewind.*dothewalrusthing.*(current)/, 15_000, n);
      // The point before A's first prompt: restoring the code there needs A's checkpoint (file-history/<id>).
      await pause(700);
      n = pb.screen().length;
      for (let i = 0; i < 3; i++) {
        pb.write('\x1b[A');
        await pause(300);
      }
      pb.write('\r');
      await pb.waitFor(/beforeyousentthismessage:.*dothewalrusthing.*Thecodewillberestored.*a\.txt.*Restorecodeandconversation/, 15_000, n);
    } finally {
      await exit(pb);
    }

    // roam rm on B: the transcript and its state go on both devices.
    const rm = b.roam('rm', id, '--json');
    expect(rm.status, rm.stderr).toBe(0);
    const removed = JSON.parse(rm.stdout) as { items: Array<{ folder?: string; name: string; removed: boolean }> };
    expect(removed.items.filter((i) => i.folder).map((i) => i.folder).sort()).toEqual(expect.arrayContaining(['claude-file-history', 'claude-plans', 'claude-tasks']));
    for (const root of [claudeA, claudeB]) {
      await until(() => !ls(join(root, 'file-history')).includes(id) || ls(join(root, 'file-history', id)).length === 0, { timeoutMs: 30_000, what: `file-history/${id} gone from ${root}` });
      await until(() => !ls(join(root, 'tasks', id)).includes('1.json'), { timeoutMs: 30_000, what: `tasks/${id} gone from ${root}` });
      await until(() => !ls(join(root, 'plans')).includes(planFile!), { timeoutMs: 30_000, what: `the plan gone from ${root}` });
    }
    // roam restore brings the session back with its state (found by session id; plans are named by slug).
    const restored = b.roam('restore', id);
    expect(restored.status, restored.stderr).toBe(0);
    await until(() => ls(join(claudeA, 'tasks', id)).includes('1.json') && ls(join(claudeA, 'file-history', id)).length === 1 && ls(join(claudeA, 'projects', projectKey(projA))).includes(`${id}.jsonl`), { timeoutMs: 30_000, what: 'the session and its state back on A' });
  }, 240_000);
});
