// The conformance scenarios: each written once, played on roam and on the Syncthing reference.
// `expect` is the reference's outcome (checked against the live Syncthing and its recording); where
// roam deliberately differs, `roam` / `fork` name the DIFFERENCES.md entry and roam's outcome.
import {
  append, big, bigLog, forkName, ignore, line, lines, mkdir, nextSecond, pause, remove, rename, replace, resume, scenario,
  settle, snapshot, start, stop, stream, truncate, write, type Scenario,
} from './dsl.js';

/** session-roam's `stignore.template` (github.com/VirelNode/session-roam), its patterns as shipped. */
export const SESSION_ROAM_TEMPLATE = [
  '.stversions',
  '*worktrees*',
  '**/subagents',
  '**/webfetch-*',
  '**/node_modules',
  '**/__pycache__',
  '**/.venv',
  '**/venv',
  '**/.next',
  '**/dist',
  '**/build',
  '**/.turbo',
  '**/*.pyc',
  '**/.DS_Store',
  '**/Thumbs.db',
  '**/*.swp',
  '**/*.swo',
  '**/*~',
  '**/.docker',
  '**/docker-buildx',
  '**/chrome',
];

const SID = '1af7fc5e-8455-4414-9ccd-011d40f70b2a';
const P = '-home-alice-code-app';
const base = lines('base', 1, 2);

/** Scenarios without link steps run concurrently; those with the same link steps in lockstep. */
export const SCENARIOS: Scenario[] = [
  // ------------------------------------------------------------------ one writer, no link cuts
  scenario({
    id: 'create',
    title: 'new files: a log, a JSON file, an executable, a private file, in subfolders',
    topology: 'pair',
    steps: [
      write('A', `${P}/${SID}.jsonl`, lines('c', 1, 3)),
      write('A', `${P}/notes.json`, '{"a":1}\n'),
      write('A', 'bin/run.sh', '#!/bin/sh\necho hi\n', { mode: 0o755 }),
      write('A', 'private.txt', 'secret\n', { mode: 0o600 }),
      settle(),
    ],
    expect: {
      end: {
        all: {
          [`${P}/${SID}.jsonl`]: { content: lines('c', 1, 3), mtime: 10, mode: 0o644 },
          [`${P}/notes.json`]: { content: '{"a":1}\n', mtime: 20 },
          'bin/run.sh': { content: '#!/bin/sh\necho hi\n', mtime: 30, mode: 0o755 },
          'private.txt': { content: 'secret\n', mtime: 40, mode: 0o600 },
        },
      },
    },
    // A received file keeps its owner bits only.
    roam: {
      difference: 'D9',
      expect: {
        end: {
          B: {
            [`${P}/${SID}.jsonl`]: { content: lines('c', 1, 3), mtime: 10, mode: 0o600 },
            'bin/run.sh': { content: '#!/bin/sh\necho hi\n', mtime: 30, mode: 0o700 },
          },
        },
      },
    },
  }),
  scenario({
    id: 'append',
    title: 'lines appended to a log',
    topology: 'pair',
    steps: [write('A', 's.jsonl', lines('a', 1, 3)), settle(), append('A', 's.jsonl', lines('a', 4, 5)), settle()],
    expect: { end: { all: { 's.jsonl': { content: lines('a', 1, 5), mtime: 30 } } } },
    sample: { on: ['B'], paths: ['s.jsonl'] },
  }),
  scenario({
    id: 'append-10mb',
    title: 'one line appended to a 10 MB log',
    topology: 'pair',
    steps: [write('A', 'big.jsonl', bigLog('big', 10_000)), settle(60_000), append('A', 'big.jsonl', line('big', 10_000)), settle(60_000)],
    expect: { end: { all: { 'big.jsonl': big(() => Buffer.concat([bigLog('big', 10_000)(), Buffer.from(line('big', 10_000))]), { mtime: 30 }) } } },
    // A large append is written by roam with one write(): a reader could catch the kernel mid-copy,
    // so only disappearance is sampled here (partial lines: the small-line scenarios).
    sample: { on: ['B'], paths: ['big.jsonl'], torn: false },
  }),
  scenario({
    id: 'streaming',
    title: 'a writer appending a line every 0.5 s, each line in two writes 150 ms apart',
    note: 'The issue asks for 30 s; 10 s (20 lines) keeps the suite in its time budget. The sampler watches B all along.',
    topology: 'pair',
    steps: [
      write('A', 'live.jsonl', line('live', 0)),
      settle(),
      stream('A', 'live.jsonl', { count: 20, everyMs: 500, splitMs: 150, line: (i) => line('live', i + 1), mtime: 100 }),
      settle(),
    ],
    expect: { end: { all: { 'live.jsonl': { content: lines('live', 0, 20), mtime: 109.5 } } } },
    sample: { on: ['B'], paths: ['live.jsonl'] },
  }),
  scenario({
    id: 'partial-line',
    title: 'half a line appended, settled, then the rest of it',
    topology: 'pair',
    steps: [
      write('A', 's.jsonl', line('p', 1)),
      settle(),
      append('A', 's.jsonl', line('p', 2).slice(0, 30)),
      settle(),
      snapshot('partial'),
      append('A', 's.jsonl', line('p', 2).slice(30)),
      settle(),
    ],
    expect: {
      partial: { all: { 's.jsonl': { content: line('p', 1) + line('p', 2).slice(0, 30), mtime: 30 } } },
      end: { all: { 's.jsonl': { content: lines('p', 1, 2), mtime: 60 } } },
    },
    roam: { difference: 'D1', expect: { partial: { B: { 's.jsonl': { content: line('p', 1), mtime: 10 } } } } },
    sample: { on: ['B'], paths: ['s.jsonl'] },
  }),
  scenario({
    id: 'subagents',
    title: 'a session with files in subagents/ and tool-results/, then appends',
    topology: 'pair',
    steps: [
      write('A', `${P}/${SID}.jsonl`, lines('main', 1, 3)),
      write('A', `${P}/${SID}/subagents/agent-a3f9c2e.jsonl`, lines('agent', 1, 4)),
      write('A', `${P}/${SID}/subagents/agent-a3f9c2e.meta.json`, '{"agentType":"general-purpose","description":"look around"}'),
      write('A', `${P}/${SID}/tool-results/toolu_01.txt`, 'result line\n'.repeat(30_000)),
      settle(),
      append('A', `${P}/${SID}/subagents/agent-a3f9c2e.jsonl`, lines('agent', 5, 6)),
      append('A', `${P}/${SID}.jsonl`, line('main', 4)),
      settle(),
    ],
    expect: {
      end: {
        all: {
          [`${P}/${SID}.jsonl`]: { content: lines('main', 1, 4), mtime: 70 },
          [`${P}/${SID}/subagents/agent-a3f9c2e.jsonl`]: { content: lines('agent', 1, 6), mtime: 60 },
          [`${P}/${SID}/subagents/agent-a3f9c2e.meta.json`]: { content: '{"agentType":"general-purpose","description":"look around"}', mtime: 30 },
          [`${P}/${SID}/tool-results/toolu_01.txt`]: big('result line\n'.repeat(30_000), { mtime: 40 }),
        },
      },
    },
    sample: { on: ['B'], paths: [`${P}/${SID}.jsonl`, `${P}/${SID}/subagents/agent-a3f9c2e.jsonl`] },
  }),
  scenario({
    id: 'meta-json',
    title: 'a .meta.json rewritten in place, longer then shorter',
    topology: 'pair',
    steps: [
      write('A', 'agent-1.meta.json', '{"agentType":"explore"}'),
      settle(),
      write('A', 'agent-1.meta.json', '{"agentType":"explore","description":"a longer description"}'),
      settle(),
      write('A', 'agent-1.meta.json', '{}'),
      settle(),
    ],
    expect: { end: { all: { 'agent-1.meta.json': { content: '{}', mtime: 50 } } } },
    sample: { on: ['B'], paths: ['agent-1.meta.json'] },
  }),
  scenario({
    id: 'sessions-index',
    title: "a project's sessions-index.json rewritten in place",
    topology: 'pair',
    steps: [
      write('A', `${P}/${SID}.jsonl`, line('s', 1)),
      write('A', `${P}/sessions-index.json`, '{"version":1,"entries":[]}'),
      settle(),
      write('A', `${P}/sessions-index.json`, `{"version":1,"entries":[{"sessionId":"${SID}","projectPath":"/home/alice/code/app"}]}`),
      settle(),
    ],
    expect: {
      end: {
        all: {
          [`${P}/${SID}.jsonl`]: { content: line('s', 1), mtime: 10 },
          [`${P}/sessions-index.json`]: { content: `{"version":1,"entries":[{"sessionId":"${SID}","projectPath":"/home/alice/code/app"}]}`, mtime: 40 },
        },
      },
    },
    roam: { difference: 'D5', expect: { end: { B: { [`${P}/sessions-index.json`]: null } } } },
  }),
  scenario({
    id: 'rewrite-shorter',
    title: 'a log rewritten in place, shorter, with other lines',
    topology: 'pair',
    steps: [write('A', 's.jsonl', lines('r', 1, 5)), settle(), write('A', 's.jsonl', line('other', 1)), settle()],
    expect: { end: { all: { 's.jsonl': { content: line('other', 1), mtime: 30 } } } },
    sample: { on: ['B'], paths: ['s.jsonl'] },
  }),
  scenario({
    id: 'truncate-zero',
    title: 'a log truncated to zero, then written again',
    topology: 'pair',
    steps: [write('A', 's.jsonl', lines('t', 1, 3)), settle(), truncate('A', 's.jsonl', 0), settle(), snapshot('empty'), append('A', 's.jsonl', line('n', 1)), settle()],
    expect: {
      empty: { all: { 's.jsonl': { content: '', mtime: 30 } } },
      end: { all: { 's.jsonl': { content: line('n', 1), mtime: 60 } } },
    },
    sample: { on: ['B'], paths: ['s.jsonl'] },
    isolate: true,
  }),
  scenario({
    id: 'atomic-replace',
    title: 'a log and a JSON file replaced by rename (new inode)',
    topology: 'pair',
    steps: [
      write('A', 's.jsonl', lines('x', 1, 2)),
      write('A', 'settings.json', '{"theme":"dark"}'),
      settle(),
      replace('A', 's.jsonl', line('x', 1) + line('y', 2, 80)),
      replace('A', 'settings.json', '{"theme":"light","fontSize":13}'),
      settle(),
    ],
    expect: {
      end: {
        all: {
          's.jsonl': { content: line('x', 1) + line('y', 2, 80), mtime: 40 },
          'settings.json': { content: '{"theme":"light","fontSize":13}', mtime: 50 },
        },
      },
    },
    sample: { on: ['B'], paths: ['s.jsonl', 'settings.json'] },
  }),
  scenario({
    id: 'delete',
    title: 'a log and a file deleted',
    topology: 'pair',
    steps: [
      write('A', 's.jsonl', line('d', 1)),
      write('A', 'n.json', '{}'),
      write('A', 'dir/x.txt', 'x\n'),
      settle(),
      remove('A', 's.jsonl'),
      remove('A', 'n.json'),
      settle(),
    ],
    expect: { end: { all: { 'dir/x.txt': { content: 'x\n', mtime: 30 } } } },
  }),
  scenario({
    id: 'delete-folder',
    title: 'a folder with a log and files deleted (rm -rf)',
    topology: 'pair',
    steps: [
      write('A', 'dir/x.txt', 'x\n'),
      write('A', 'dir/sub/y.jsonl', line('d', 2)),
      write('A', 'keep.txt', 'keep\n'),
      settle(),
      remove('A', 'dir'),
      settle(),
    ],
    expect: { end: { all: { 'keep.txt': { content: 'keep\n', mtime: 30 } } } },
  }),
  scenario({
    id: 'log-deletes-local',
    title: "a session log deleted on one device by the tool's clean-up, then appended on the other",
    topology: 'pair',
    logDeletes: 'local',
    steps: [
      write('A', 's.jsonl', lines('k', 1, 2)),
      write('A', 'n.json', '{}'),
      write('A', 'keep.txt', 'keep\n'),
      settle(),
      remove('A', 's.jsonl'),
      remove('A', 'n.json'),
      settle(),
      snapshot('deleted'),
      append('B', 's.jsonl', line('k', 3)),
      settle(),
    ],
    expect: {
      deleted: { all: { 'keep.txt': 'keep\n' } },
      // B's append makes a new file there, which comes back to A.
      end: { all: { 'keep.txt': 'keep\n', 's.jsonl': { content: line('k', 3), mtime: 90 } } },
    },
    roam: {
      difference: 'D7',
      expect: {
        // The log stays on B; A keeps it deleted until it grows elsewhere, then fetches it again.
        deleted: { B: { 's.jsonl': { content: lines('k', 1, 2), mtime: 10 } } },
        end: { all: { 's.jsonl': { content: lines('k', 1, 3), mtime: 90 } } },
      },
    },
  }),
  scenario({
    id: 'rename-folder',
    title: 'a project folder renamed',
    topology: 'pair',
    steps: [
      write('A', 'proj/s.jsonl', lines('m', 1, 2)),
      write('A', 'proj/sub/m.json', '{"m":1}'),
      settle(),
      rename('A', 'proj', 'proj-renamed'),
      settle(),
    ],
    expect: { end: { all: { 'proj-renamed/s.jsonl': { content: lines('m', 1, 2), mtime: 10 }, 'proj-renamed/sub/m.json': { content: '{"m":1}', mtime: 20 } } } },
  }),
  scenario({
    id: 'empty-files',
    title: 'an empty log and an empty file, then a line in the log',
    topology: 'pair',
    steps: [write('A', 'e.jsonl', ''), write('A', 'e.txt', ''), settle(), snapshot('empty'), append('A', 'e.jsonl', line('e', 1)), settle()],
    expect: {
      empty: { all: { 'e.jsonl': { content: '', mtime: 10 }, 'e.txt': { content: '', mtime: 20 } } },
      end: { all: { 'e.jsonl': { content: line('e', 1), mtime: 50 }, 'e.txt': { content: '', mtime: 20 } } },
    },
  }),
  scenario({
    id: 'empty-dir',
    title: 'empty directories',
    topology: 'pair',
    steps: [write('A', 'keep.txt', 'k\n'), mkdir('A', 'emptydir'), mkdir('A', 'nested/deeper'), settle()],
    expect: { end: { all: { 'keep.txt': { content: 'k\n', mtime: 10 }, 'emptydir/': {}, 'nested/deeper/': {} } } },
    roam: { difference: 'D8', expect: { end: { B: { 'emptydir/': null, 'nested/deeper/': null } } } },
  }),
  scenario({
    id: 'unicode-names',
    title: 'unicode names and the longest names (255 bytes)',
    topology: 'pair',
    steps: [
      write('A', 'проект/сессия.jsonl', line('u', 1)),
      write('A', '日本語 フォルダ/ファイル.json', '{"名前":"値"}'),
      write('A', 'emoji-🚀-session.jsonl', line('u', 2)),
      write('A', `${'é'.repeat(120)}.jsonl`, line('u', 3)),
      write('A', `${'a'.repeat(249)}.jsonl`, line('u', 4)),
      settle(),
      append('A', `${'a'.repeat(249)}.jsonl`, line('u', 5)),
      write('A', '日本語 フォルダ/ファイル.json', '{"名前":"新しい値"}'),
      settle(),
    ],
    expect: {
      end: {
        all: {
          'проект/сессия.jsonl': { content: line('u', 1), mtime: 10 },
          '日本語 フォルダ/ファイル.json': { content: '{"名前":"新しい値"}', mtime: 80 },
          'emoji-🚀-session.jsonl': { content: line('u', 2), mtime: 30 },
          [`${'é'.repeat(120)}.jsonl`]: { content: line('u', 3), mtime: 40 },
          [`${'a'.repeat(249)}.jsonl`]: { content: lines('u', 4, 5), mtime: 70 },
        },
      },
    },
  }),
  scenario({
    id: 'ignore-template',
    title: "session-roam's template patterns as ignore rules on both devices",
    topology: 'pair',
    steps: [
      ignore('A', SESSION_ROAM_TEMPLATE),
      ignore('B', SESSION_ROAM_TEMPLATE),
      write('A', `${P}/${SID}.jsonl`, line('i', 1)),
      write('A', `${P}/${SID}/subagents/agent-1.jsonl`, line('i', 2)),
      write('A', `${P}/${SID}/tool-results/t.txt`, 't\n'),
      write('A', `${P}/memory/MEMORY.md`, '# memory\n'),
      write('A', '-home-alice-code-app-worktrees-feature/s.jsonl', line('i', 3)),
      write('A', `${P}/webfetch-123/page.html`, '<html></html>'),
      write('A', `${P}/node_modules/m/index.js`, 'x'),
      write('A', `${P}/.venv/bin/activate`, 'x'),
      write('A', `${P}/dist/out.js`, 'x'),
      write('A', `${P}/build/out.o`, 'x'),
      write('A', `${P}/__pycache__/m.cpython-311.pyc`, 'x'),
      write('A', `${P}/.DS_Store`, 'x'),
      write('A', `${P}/notes.md~`, 'x'),
      write('A', `${P}/.notes.md.swp`, 'x'),
      write('A', `${P}/chrome/cache.bin`, 'x'),
      write('B', '-home-bob-x/s2.jsonl', line('i', 4)),
      write('B', '-home-bob-x/node_modules/y.js', 'y'),
      settle(),
    ],
    expect: {
      end: {
        all: {
          [`${P}/${SID}.jsonl`]: { content: line('i', 1), mtime: 30 },
          [`${P}/${SID}/tool-results/t.txt`]: 't\n',
          [`${P}/memory/MEMORY.md`]: '# memory\n',
          '-home-bob-x/s2.jsonl': { content: line('i', 4), mtime: 180 },
        },
        A: {
          [`${P}/${SID}/subagents/agent-1.jsonl`]: line('i', 2),
          '-home-alice-code-app-worktrees-feature/s.jsonl': line('i', 3),
          [`${P}/webfetch-123/page.html`]: '<html></html>',
          [`${P}/node_modules/m/index.js`]: 'x',
          [`${P}/.venv/bin/activate`]: 'x',
          [`${P}/dist/out.js`]: 'x',
          [`${P}/build/out.o`]: 'x',
          [`${P}/__pycache__/m.cpython-311.pyc`]: 'x',
          [`${P}/.DS_Store`]: 'x',
          [`${P}/notes.md~`]: 'x',
          [`${P}/.notes.md.swp`]: 'x',
          [`${P}/chrome/cache.bin`]: 'x',
        },
        B: { '-home-bob-x/node_modules/y.js': 'y' },
      },
    },
  }),
  scenario({
    id: 'ignore-added',
    title: 'an ignore rule added on both devices after files synced',
    topology: 'pair',
    steps: [
      write('A', 'notes/a.txt', 'a\n'),
      write('A', 'old.log', 'one\n'),
      settle(),
      ignore('A', ['*.log', 'scratch']),
      ignore('B', ['*.log', 'scratch']),
      write('A', 'scratch/x.txt', 'x\n'),
      write('B', 'scratch/y.txt', 'y\n'),
      append('A', 'old.log', 'two\n'),
      write('A', 'notes/b.txt', 'b\n'),
      settle(),
    ],
    expect: {
      end: {
        all: { 'notes/a.txt': { content: 'a\n', mtime: 10 }, 'notes/b.txt': { content: 'b\n', mtime: 90 }, 'old.log': { content: 'one\n', mtime: 20 } },
        A: { 'old.log': { content: 'one\ntwo\n', mtime: 80 }, 'scratch/x.txt': 'x\n' },
        B: { 'scratch/y.txt': 'y\n' },
      },
    },
  }),
  scenario({
    id: 'ignore-one-side',
    title: 'an ignore rule on B only: it applies only on B',
    topology: 'pair',
    steps: [
      ignore('B', ['*.log']),
      write('A', 'a.log', 'from A\n'),
      write('B', 'b.log', 'from B\n'),
      write('A', 'a.txt', 'a\n'),
      settle(),
    ],
    expect: { end: { all: { 'a.txt': { content: 'a\n', mtime: 40 } }, A: { 'a.log': { content: 'from A\n', mtime: 20 } }, B: { 'b.log': { content: 'from B\n', mtime: 30 } } } },
    isolate: true,
  }),
  scenario({
    id: 'default-ignores',
    title: 'tool junk in a folder without ignore rules',
    topology: 'pair',
    steps: [
      write('A', `${P}/${SID}.jsonl`, line('j', 1)),
      write('A', `${P}/${SID}/subagents/agent-1.jsonl`, line('j', 2)),
      write('A', `${P}/node_modules/x.js`, 'x'),
      write('A', '-home-alice-code-app-worktrees-feature/s.jsonl', line('j', 3)),
      write('A', `${P}/webfetch-1/p.html`, 'x'),
      write('A', `${P}/.DS_Store`, 'x'),
      write('A', `${P}/.s.swp`, 'x'),
      write('A', `${P}/notes.md~`, 'x'),
      write('A', `${P}/__pycache__/m.pyc`, 'x'),
      write('A', `${P}/.cache/c.bin`, 'x'),
      settle(),
    ],
    expect: {
      end: {
        all: {
          [`${P}/${SID}.jsonl`]: { content: line('j', 1), mtime: 10 },
          [`${P}/${SID}/subagents/agent-1.jsonl`]: { content: line('j', 2), mtime: 20 },
          [`${P}/node_modules/x.js`]: 'x',
          '-home-alice-code-app-worktrees-feature/s.jsonl': line('j', 3),
          [`${P}/webfetch-1/p.html`]: 'x',
          [`${P}/.DS_Store`]: 'x',
          [`${P}/.s.swp`]: 'x',
          [`${P}/notes.md~`]: 'x',
          [`${P}/__pycache__/m.pyc`]: 'x',
          [`${P}/.cache/c.bin`]: 'x',
        },
      },
    },
    roam: {
      difference: 'D6',
      expect: {
        end: {
          B: {
            [`${P}/node_modules/x.js`]: null,
            '-home-alice-code-app-worktrees-feature/s.jsonl': null,
            [`${P}/webfetch-1/p.html`]: null,
            [`${P}/.DS_Store`]: null,
            [`${P}/.s.swp`]: null,
            [`${P}/notes.md~`]: null,
            [`${P}/__pycache__/m.pyc`]: null,
            [`${P}/.cache/c.bin`]: null,
          },
        },
      },
    },
  }),

  // ------------------------------------------------------------------ three devices in a line
  scenario({
    id: 'line',
    title: 'three devices in a line (A-B-C; A and C never talk)',
    topology: 'trio',
    steps: [
      pause('A', 'C'),
      write('A', 'a.jsonl', line('a', 1)),
      write('C', 'c.jsonl', line('c', 1)),
      settle(),
      append('B', 'a.jsonl', line('a', 2)),
      append('A', 'c.jsonl', line('c', 2)),
      settle(),
    ],
    expect: { end: { all: { 'a.jsonl': { content: lines('a', 1, 2), mtime: 50 }, 'c.jsonl': { content: lines('c', 1, 2), mtime: 60 } } } },
    sample: { on: ['C'], paths: ['a.jsonl'] },
  }),

  // ------------------------------------------------------------------ a device offline
  scenario({
    id: 'offline-catch-up',
    title: 'a stopped device catches up on start (and sends what was written while it was down)',
    topology: 'pair',
    steps: [
      write('A', 's.jsonl', lines('o', 1, 2)),
      settle(),
      stop('B'),
      append('A', 's.jsonl', lines('o', 3, 40)),
      write('A', 'new.json', '{"new":true}'),
      write('B', 'b.txt', 'written while B was down\n'),
      settle(),
      start('B'),
      settle(),
    ],
    expect: {
      end: {
        all: {
          's.jsonl': { content: lines('o', 1, 40), mtime: 40 },
          'new.json': { content: '{"new":true}', mtime: 50 },
          'b.txt': { content: 'written while B was down\n', mtime: 60 },
        },
      },
    },
  }),

  // ------------------------------------------------------------------ concurrent changes while apart
  // Every one runs roam twice: `syncthing` conflict mode (exactly the reference) and `fork` mode.
  scenario({
    id: 'divergent-a-newer',
    title: 'both append while apart; A newer; a JSON file changed on both too',
    topology: 'pair',
    conflict: true,
    steps: [
      write('A', 's.jsonl', base, { mtime: 10 }),
      write('A', 'm.json', '{"v":0}', { mtime: 10 }),
      settle(),
      pause('A', 'B'),
      append('A', 's.jsonl', lines('a', 1, 2), { mtime: 50 }),
      append('B', 's.jsonl', line('b', 1), { mtime: 40 }),
      write('A', 'm.json', '{"v":"from A"}', { mtime: 50 }),
      write('B', 'm.json', '{"v":"B"}', { mtime: 40 }),
      resume('A', 'B'),
      settle(),
    ],
    expect: {
      end: {
        all: {
          's.jsonl': { content: base + lines('a', 1, 2), mtime: 50 },
          's.sync-conflict-<T>-A.jsonl': { content: base + line('b', 1), mtime: 40 },
          'm.json': { content: '{"v":"from A"}', mtime: 50 },
          'm.sync-conflict-<T>-A.json': { content: '{"v":"B"}', mtime: 40 },
        },
      },
    },
    fork: { difference: 'D4', expect: { end: { all: { 's.sync-conflict-<T>-A.jsonl': null, [forkName('s.jsonl', base + line('b', 1))]: { content: base + line('b', 1), mtime: 40 } } } } },
    sample: { on: ['A', 'B'], paths: ['s.jsonl', 'm.json'] },
  }),
  scenario({
    id: 'divergent-b-newer',
    title: 'both append while apart; B newer, with 1 line against 5',
    topology: 'pair',
    conflict: true,
    steps: [
      write('A', 's.jsonl', base, { mtime: 10 }),
      settle(),
      pause('A', 'B'),
      append('A', 's.jsonl', lines('a', 1, 5), { mtime: 40 }),
      append('B', 's.jsonl', line('b', 1), { mtime: 50 }),
      resume('A', 'B'),
      settle(),
    ],
    expect: {
      end: {
        all: {
          's.jsonl': { content: base + line('b', 1), mtime: 50 },
          's.sync-conflict-<T>-B.jsonl': { content: base + lines('a', 1, 5), mtime: 40 },
        },
      },
    },
    fork: { difference: 'D4', expect: { end: { all: { 's.sync-conflict-<T>-B.jsonl': null, [forkName('s.jsonl', base + lines('a', 1, 5))]: { content: base + lines('a', 1, 5), mtime: 40 } } } } },
    sample: { on: ['A', 'B'], paths: ['s.jsonl'] },
  }),
  scenario({
    id: 'identical-appends',
    title: 'the same line appended on both while apart (A older)',
    topology: 'pair',
    conflict: true,
    steps: [
      write('A', 's.jsonl', base, { mtime: 10 }),
      settle(),
      pause('A', 'B'),
      append('A', 's.jsonl', line('same', 1), { mtime: 40 }),
      append('B', 's.jsonl', line('same', 1), { mtime: 50 }),
      resume('A', 'B'),
      settle(),
    ],
    expect: { end: { all: { 's.jsonl': { content: base + line('same', 1), mtime: 50 } } } },
  }),
  scenario({
    id: 'delete-then-modify',
    title: 'while apart, A deletes a log and a file, then B changes both',
    topology: 'pair',
    conflict: true,
    steps: [
      write('A', 's.jsonl', base, { mtime: 10 }),
      write('A', 'n.json', '{"n":0}', { mtime: 10 }),
      settle(),
      pause('A', 'B'),
      remove('A', 's.jsonl'),
      remove('A', 'n.json'),
      append('B', 's.jsonl', line('b', 1), { mtime: 50 }),
      write('B', 'n.json', '{"n":"B"}', { mtime: 50 }),
      resume('A', 'B'),
      settle(),
    ],
    expect: { end: { all: { 's.jsonl': { content: base + line('b', 1), mtime: 50 }, 'n.json': { content: '{"n":"B"}', mtime: 50 } } } },
  }),
  scenario({
    id: 'modify-then-delete',
    title: 'while apart, A changes a log and a file, then B deletes both (the newer change)',
    topology: 'pair',
    conflict: true,
    steps: [
      write('A', 's.jsonl', base, { mtime: 10 }),
      write('A', 'n.json', '{"n":0}', { mtime: 10 }),
      settle(),
      pause('A', 'B'),
      append('A', 's.jsonl', line('a', 1), { mtime: 50 }),
      write('A', 'n.json', '{"n":"A"}', { mtime: 50 }),
      remove('B', 's.jsonl'),
      remove('B', 'n.json'),
      resume('A', 'B'),
      settle(),
    ],
    expect: { end: { all: { 's.jsonl': { content: base + line('a', 1), mtime: 50 }, 'n.json': { content: '{"n":"A"}', mtime: 50 } } } },
  }),
  scenario({
    id: 'tie-equal-mtime',
    title: 'both append while apart with equal mtimes: the device ids decide',
    topology: 'pair',
    conflict: true,
    tie: true,
    rule:
      'Equal mtimes: the version from the device with the larger 64-bit short id loses. S is the device with the smaller ' +
      'short id (Syncthing: the first 8 bytes of its device id; roam: the first 16 hex digits of sha256(peer id)), L the larger.',
    steps: [
      write('S', 's.jsonl', base, { mtime: 10 }),
      settle(),
      pause('S', 'L'),
      append('S', 's.jsonl', line('from-S', 1), { mtime: 50 }),
      append('L', 's.jsonl', line('from-L', 1), { mtime: 50 }),
      resume('S', 'L'),
      settle(),
    ],
    expect: {
      end: {
        all: {
          's.jsonl': { content: base + line('from-S', 1), mtime: 50 },
          's.sync-conflict-<T>-S.jsonl': { content: base + line('from-L', 1), mtime: 50 },
        },
      },
    },
    fork: { difference: 'D4', expect: { end: { all: { 's.sync-conflict-<T>-S.jsonl': null, [forkName('s.jsonl', base + line('from-L', 1))]: { content: base + line('from-L', 1), mtime: 50 } } } } },
    sample: { on: ['S', 'L'], paths: ['s.jsonl'] },
  }),
  scenario({
    id: 'fast-forward',
    title: 'while apart, A appends two lines, B the first of them (newer): one log extends the other',
    topology: 'pair',
    conflict: true,
    steps: [
      write('A', 's.jsonl', base, { mtime: 10 }),
      settle(),
      pause('A', 'B'),
      append('A', 's.jsonl', lines('ff', 1, 2), { mtime: 40 }),
      append('B', 's.jsonl', line('ff', 1), { mtime: 50 }),
      resume('A', 'B'),
      settle(),
    ],
    expect: {
      end: {
        all: {
          's.jsonl': { content: base + line('ff', 1), mtime: 50 },
          's.sync-conflict-<T>-B.jsonl': { content: base + lines('ff', 1, 2), mtime: 40 },
        },
      },
    },
    roam: { difference: 'D3', expect: { end: { all: { 's.jsonl': { content: base + lines('ff', 1, 2), mtime: 40 }, 's.sync-conflict-<T>-B.jsonl': null } } } },
    fork: { difference: 'D3', expect: { end: { all: { 's.jsonl': { content: base + lines('ff', 1, 2), mtime: 40 }, 's.sync-conflict-<T>-B.jsonl': null } } } },
  }),
  scenario({
    id: 'repeated-conflicts',
    title: 'three rounds of divergent appends to one log (A, B, A newer)',
    topology: 'pair',
    conflict: true,
    steps: [
      write('A', 's.jsonl', base, { mtime: 10 }),
      settle(),
      pause('A', 'B'),
      append('A', 's.jsonl', line('a', 1), { mtime: 40 }),
      append('B', 's.jsonl', line('b', 1), { mtime: 30 }),
      nextSecond(),
      resume('A', 'B'),
      settle(),
      pause('A', 'B'),
      append('A', 's.jsonl', line('a', 2), { mtime: 60 }),
      append('B', 's.jsonl', line('b', 2), { mtime: 70 }),
      nextSecond(),
      resume('A', 'B'),
      settle(),
      pause('A', 'B'),
      append('A', 's.jsonl', line('a', 3), { mtime: 90 }),
      append('B', 's.jsonl', line('b', 3), { mtime: 80 }),
      nextSecond(),
      resume('A', 'B'),
      settle(),
    ],
    expect: {
      end: {
        all: {
          's.jsonl': { content: base + line('a', 1) + line('b', 2) + line('a', 3), mtime: 90 },
          's.sync-conflict-<T1>-A.jsonl': { content: base + line('b', 1), mtime: 30 },
          's.sync-conflict-<T2>-B.jsonl': { content: base + line('a', 1) + line('a', 2), mtime: 60 },
          's.sync-conflict-<T3>-A.jsonl': { content: base + line('a', 1) + line('b', 2) + line('b', 3), mtime: 80 },
        },
      },
    },
    fork: {
      difference: 'D4',
      expect: {
        end: {
          all: {
            's.sync-conflict-<T1>-A.jsonl': null,
            's.sync-conflict-<T2>-B.jsonl': null,
            's.sync-conflict-<T3>-A.jsonl': null,
            [forkName('s.jsonl', base + line('b', 1))]: { content: base + line('b', 1), mtime: 30 },
            [forkName('s.jsonl', base + line('a', 1) + line('a', 2))]: { content: base + line('a', 1) + line('a', 2), mtime: 60 },
            [forkName('s.jsonl', base + line('a', 1) + line('b', 2) + line('b', 3))]: { content: base + line('a', 1) + line('b', 2) + line('b', 3), mtime: 80 },
          },
        },
      },
    },
  }),
];

/** roam's folders for a scenario: `<id>`, plus `<id>--fork` for conflict scenarios. */
export function roamFolders(s: Scenario): string[] {
  return s.conflict ? [s.id, `${s.id}--fork`] : [s.id];
}
