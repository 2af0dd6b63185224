/**
 * The layering of packages/<name>/src (docs/ARCHITECTURE.md), in the spirit of core's purity test:
 * every source file's imports are read with TypeScript's own scanner (`ts.preProcessFile`: static
 * imports, `import type`, `export … from`, dynamic `import()`), resolved to files, and checked:
 *   1. no import cycle among the source files (type imports included: a cycle of types is still a
 *      tangle a newcomer has to hold in mind at once);
 *   2. the verbs' side (commands/, tools/, convert/, sessions/, machine/) imports neither daemon/
 *      nor pairing/ beyond its public modules;
 *   3. packages/core imports nothing of packages/cli;
 *   4. no source file passes 400 lines;
 *   5. a verb that only reads (`roam list`, `roam search`) loads neither libp2p nor the replication
 *      core: the built CLI runs under a resolve hook that records every module it loads.
 * Each failure lists the exact files, lines and cycles.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { afterAll, describe, expect, it } from 'vitest';

const repo = fileURLToPath(new URL('../..', import.meta.url));
const cliSrc = 'packages/cli/src';
const MAX_LINES = 400;
/** Folders of packages/cli/src that are the verbs' side: they reach roamd through control/ only. */
const VERB_SIDE = ['commands', 'tools', 'convert', 'sessions', 'machine', 'ui'];
/**
 * pairing/'s modules the verbs' side may import: none. What verbs need of pairing lives where they
 * may reach it: the pairing control results in control/pairing.ts, the code's format in
 * machine/pair-code.ts (`roam pair <code>` refuses a bad code before it asks roamd), what `roam pair`
 * shows while it waits in commands/helpers/pair-progress.ts. All of pairing/ is roamd's.
 */
const PAIRING_PUBLIC = new Set<string>();

interface Import {
  /** Repository-relative path of the importing file. */
  readonly from: string;
  readonly line: number;
  readonly spec: string;
  /** Repository-relative path of the imported source file; undefined for a package outside packages/. */
  readonly to: string | undefined;
}

function tsFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? tsFiles(join(dir, e.name)) : e.name.endsWith('.ts') && !e.name.endsWith('.d.ts') ? [join(dir, e.name)] : [],
  );
}

/** Every import specifier of `code`, with its 1-based line, as TypeScript's scanner reads them. */
export function importsIn(code: string): Array<{ spec: string; line: number }> {
  const info = ts.preProcessFile(code, true, true);
  const source = ts.createSourceFile('x.ts', code, ts.ScriptTarget.Latest);
  return info.importedFiles.map((f) => ({ spec: f.fileName, line: source.getLineAndCharacterOfPosition(f.pos).line + 1 }));
}

/** The workspace packages by name: where each export's built file comes from in src/. */
const workspaces = readdirSync(join(repo, 'packages')).flatMap((dir) => {
  const file = join(repo, 'packages', dir, 'package.json');
  if (!existsSync(file)) return [];
  const pkg = JSON.parse(readFileSync(file, 'utf8')) as { name: string; exports?: Record<string, string | { default?: string }> };
  return [{ dir: `packages/${dir}`, name: pkg.name, exports: pkg.exports ?? {} }];
});

/** The source file a built path (`./dist/x/index.js`) of a workspace comes from (`src/x/index.ts`). */
function sourceOfBuilt(dir: string, built: string): string | undefined {
  const m = /^\.\/dist\/(.+)\.js$/.exec(built);
  return m ? `${dir}/src/${m[1]}.ts` : undefined;
}

function resolveSpec(fromAbs: string, spec: string): string | undefined {
  if (spec.startsWith('.')) {
    const base = resolve(dirname(fromAbs), spec);
    const stem = base.replace(/\.(m|c)?js$/, '');
    for (const c of [`${stem}.ts`, `${stem}.mts`, `${stem}.cts`, join(base, 'index.ts'), base]) if (existsSync(c) && !c.endsWith('/')) return relative(repo, c);
    return relative(repo, base);
  }
  for (const w of workspaces) {
    if (spec !== w.name && !spec.startsWith(`${w.name}/`)) continue;
    const sub = `.${spec.slice(w.name.length)}`;
    const target = w.exports[sub];
    const built = typeof target === 'string' ? target : target?.default;
    return (built && sourceOfBuilt(w.dir, built)) ?? `${w.dir}/${sub === '.' ? 'package.json' : sub.slice(2)}`;
  }
  return undefined;
}

const sources = workspaces.flatMap((w) => (existsSync(join(repo, w.dir, 'src')) ? tsFiles(join(repo, w.dir, 'src')) : []));
const imports: Import[] = sources.flatMap((abs) =>
  importsIn(readFileSync(abs, 'utf8')).map(({ spec, line }) => ({ from: relative(repo, abs), line, spec, to: resolveSpec(abs, spec) })),
);
const at = (i: Import) => `${i.from}:${i.line} imports '${i.spec}'`;

/** Strongly connected components of more than one file (or a file importing itself), Tarjan's way. */
export function cycles(edges: ReadonlyMap<string, ReadonlySet<string>>): string[][] {
  let next = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const out: string[][] = [];
  const visit = (v: string): void => {
    index.set(v, next);
    low.set(v, next++);
    stack.push(v);
    onStack.add(v);
    for (const w of edges.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) === index.get(v)) {
      const scc: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        scc.push(w);
      } while (w !== v);
      if (scc.length > 1 || edges.get(v)?.has(v)) out.push(scc.sort());
    }
  };
  for (const v of [...edges.keys()].sort()) if (!index.has(v)) visit(v);
  return out;
}

/** One shortest loop through `start` inside its component, for the failure message. */
function loopThrough(start: string, edges: ReadonlyMap<string, ReadonlySet<string>>, within: ReadonlySet<string>): string[] {
  const prev = new Map<string, string>();
  const queue = [start];
  while (queue.length) {
    const v = queue.shift()!;
    for (const w of edges.get(v) ?? []) {
      if (!within.has(w)) continue;
      if (w === start) {
        const path = [v];
        while (path[0] !== start) path.unshift(prev.get(path[0]!)!);
        return [...path, start];
      }
      if (!prev.has(w)) {
        prev.set(w, v);
        queue.push(w);
      }
    }
  }
  return [start];
}

function lineCount(text: string): number {
  return text.length === 0 ? 0 : text.split('\n').length - (text.endsWith('\n') ? 1 : 0);
}

describe('layering of the packages\' sources', () => {
  it('reads every kind of import, type imports and dynamic imports included', () => {
    const code = [
      "import { a } from './a.js';",
      "import type { B } from '../b.js';",
      "export * from './c.js';",
      "export type { D } from './d.js';",
      "import './e.js';",
      "const f = await import('./f.js');",
      "/* import { g } from './g.js'; */ const s = \"import { h } from './h.js'\";",
    ].join('\n');
    expect(importsIn(code)).toEqual([
      { spec: './a.js', line: 1 }, { spec: '../b.js', line: 2 }, { spec: './c.js', line: 3 },
      { spec: './d.js', line: 4 }, { spec: './e.js', line: 5 }, { spec: './f.js', line: 6 },
    ]);
    expect(sources.length).toBeGreaterThan(100);
    expect(imports.filter((i) => i.to?.startsWith('packages/core/src/')).length).toBeGreaterThan(50);
  });

  it('finds cycles, and only cycles', () => {
    const g = (o: Record<string, string[]>) => new Map(Object.entries(o).map(([k, v]) => [k, new Set(v)]));
    expect(cycles(g({ a: ['b'], b: ['c'], c: ['a'], d: ['a'], e: ['e'] }))).toEqual([['a', 'b', 'c'], ['e']]);
    expect(cycles(g({ a: ['b', 'c'], b: ['c'], c: [] }))).toEqual([]);
  });

  it('has no import cycle (type imports included)', () => {
    const edges = new Map<string, Set<string>>();
    for (const i of imports) {
      if (!i.to || !sources.includes(join(repo, i.to))) continue;
      if (!edges.has(i.from)) edges.set(i.from, new Set());
      edges.get(i.from)!.add(i.to);
    }
    const found = cycles(edges).map((scc) => {
      const loop = loopThrough(scc[0]!, edges, new Set(scc));
      return `cycle of ${scc.length} files, e.g. ${loop.join(' → ')}; all of them: ${scc.join(', ')}`;
    });
    expect(found).toEqual([]);
  });

  it('keeps daemon/ and pairing internals out of the verbs\' side (commands, tools, convert, sessions, machine)', () => {
    const offenders = imports
      .filter((i) => VERB_SIDE.some((dir) => i.from.startsWith(`${cliSrc}/${dir}/`)))
      .filter((i) => {
        if (!i.to) return false;
        if (i.to.startsWith(`${cliSrc}/daemon/`)) return true;
        return i.to.startsWith(`${cliSrc}/pairing/`) && !PAIRING_PUBLIC.has(i.to.slice(`${cliSrc}/pairing/`.length));
      })
      .map((i) => `${at(i)} → ${i.to}`);
    expect(offenders).toEqual([]);
  });

  it('keeps packages/cli out of packages/core', () => {
    const offenders = imports
      .filter((i) => i.from.startsWith('packages/core/'))
      .filter((i) => i.to?.startsWith('packages/cli/') || i.spec === 'roam' || i.spec.startsWith('roam/'))
      .map(at);
    expect(offenders).toEqual([]);
  });

  it(`keeps every source file at ${MAX_LINES} lines or fewer`, () => {
    const long = sources
      .map((abs) => ({ file: relative(repo, abs), lines: lineCount(readFileSync(abs, 'utf8')) }))
      .filter((f) => f.lines > MAX_LINES)
      .sort((a, b) => b.lines - a.lines)
      .map((f) => `${f.file}: ${f.lines} lines`);
    expect(long).toEqual([]);
  });
});

describe('a verb that only reads loads neither libp2p nor the replication core', () => {
  const roam = join(repo, 'packages/cli/dist/roam.js');
  const hook = fileURLToPath(new URL('./load-trace.mjs', import.meta.url));
  const tmp = mkdtempSync(join(tmpdir(), 'roam-layering-'));
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));

  /** What may not be loaded, with the reason. */
  const FORBIDDEN: Array<[RegExp, string]> = [
    [/\/node_modules\/(libp2p|@libp2p|@chainsafe|@multiformats)\//, 'libp2p'],
    [/\/node_modules\/@msgpack\//, 'msgpack (the wire codec)'],
    [/\/packages\/core\/dist\/index\.js$|\/node_modules\/@roam\/core\/dist\/index\.js$/, "@roam/core's barrel"],
    [/\/packages\/core\/dist\/(engine\.js|engine\/|replication\/)|\/node_modules\/@roam\/core\/dist\/(engine\.js|engine\/|replication\/)/, 'the replication core'],
  ];

  for (const args of [['list', '--all', '--json'], ['search', 'anything', '--json']]) {
    it(`roam ${args.join(' ')}`, () => {
      expect(existsSync(roam), `${roam} is built by tsc -b`).toBe(true);
      const home = mkdtempSync(join(tmp, 'home-'));
      const trace = join(home, 'loaded.txt');
      const r = spawnSync(process.execPath, ['--import', hook, roam, ...args], {
        env: { PATH: process.env.PATH, HOME: home, ROAM_HOME: join(home, 'roam'), ROAM_LOAD_TRACE: trace },
        encoding: 'utf8',
        timeout: 60_000,
      });
      expect({ status: r.status, stderr: r.stderr }).toEqual({ status: 0, stderr: '' });
      expect(JSON.parse(r.stdout)).toEqual([]);
      const loaded = readFileSync(trace, 'utf8').trim().split('\n').map((l) => l.split('\t') as [string, string]);
      expect(loaded.some(([url]) => url.endsWith('/packages/cli/dist/main.js'))).toBe(true);
      const short = (url: string) => url.replace(`file://${repo}`, '');
      const forbidden = (url: string) => FORBIDDEN.find(([re]) => re.test(url))?.[1];
      // Where the verb first steps into forbidden ground (not every module loaded from there on).
      const offenders = [...new Set(loaded.flatMap(([url, parent]) => {
        const why = forbidden(url);
        return why && !forbidden(parent) ? [`${why}: ${short(url)} (imported by ${short(parent)})`] : [];
      }))];
      expect(offenders).toEqual([]);
    });
  }
});
