#!/usr/bin/env node
// @ts-check
/**
 * `npm run pack`: writes roam-<version>.tgz, one self-contained package of the CLI that
 * `npm i -g ./roam-<version>.tgz` installs (roam and roamd) with no checkout present, and that
 * `npm publish roam-<version>.tgz` can publish as it is. Run after the build (`tsc -b`; the root
 * script does both).
 *
 * The tarball carries its dependencies (`bundleDependencies`, as npm's own package does): @roam/core,
 * which only the workspace provides, and every run-time dependency, copied from the checkout's
 * node_modules at the paths and versions of package-lock.json (scripts/closure.mjs). So the
 * install needs no registry and no cache (it works offline, in seconds) and runs exactly the
 * dependency tree the tests ran. The CLI's own files are the very files the tests ran, still loaded
 * module by module (each verb lazily): no bundler rewrites them.
 *
 * What goes in: package.json, README.md, LICENSE, the built JavaScript of the files under src/ (a
 * file left in dist/ by a source that no longer exists stays out) and node_modules/ of the bundled
 * packages. No declarations and no source maps (ours, nor the bundled packages'): `roam` has no
 * importable API, and the maps point at sources the package does not carry.
 *
 * Usage: node scripts/pack.mjs [--out-dir <dir>] [--dry-run]
 *   --out-dir  where the tarball goes (default: the repository root); its path is the last line printed
 *   --dry-run  print what the package would hold (npm pack --dry-run), write no tarball
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, cpSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { runtimeClosure } from './closure.mjs';

const repo = fileURLToPath(new URL('..', import.meta.url));
const { values: opts } = parseArgs({ options: { 'out-dir': { type: 'string' }, 'dry-run': { type: 'boolean' } } });
const outDir = resolve(opts['out-dir'] ?? repo);

/** @param {string} file @returns {any} */
const readJson = (file) => JSON.parse(readFileSync(join(repo, file), 'utf8'));
/** @param {string} file @param {unknown} value */
const writeJson = (file, value) => writeFileSync(file, `${JSON.stringify(value, null, 2)}\n`);

/**
 * The built .js of every source file under pkg/src (skipping `skip`), as paths relative to pkg.
 * @param {string} pkg @param {readonly string[]} skip
 */
function builtFiles(pkg, skip = []) {
  const src = join(repo, pkg, 'src');
  /** @type {string[]} */
  const out = [];
  for (const e of readdirSync(src, { recursive: true, withFileTypes: true })) {
    if (!e.isFile() || !e.name.endsWith('.ts') || e.name.endsWith('.d.ts')) continue;
    const rel = relative(src, join(e.parentPath, e.name));
    if (skip.some((s) => rel.startsWith(s))) continue;
    const js = join('dist', rel.replace(/\.ts$/, '.js'));
    if (!existsSync(join(repo, pkg, js))) throw new Error(`${pkg}/${js} is missing: build first (npm run build)`);
    out.push(js);
  }
  return out.sort();
}

/** @param {string} from directory under the repo @param {string[]} files @param {string} to */
function copy(from, files, to) {
  for (const f of files) {
    mkdirSync(dirname(join(to, f)), { recursive: true });
    copyFileSync(join(repo, from, f), join(to, f));
  }
}

const cli = readJson('packages/cli/package.json');
const core = readJson('packages/core/package.json');
const lock = readJson('package-lock.json');

/** Core without its test helpers (memory store, in-memory network: nothing the CLI loads). */
const coreSkip = ['testing/'];
const coreExports = Object.fromEntries(
  Object.entries(/** @type {Record<string, { default: string }>} */ (core.exports))
    .filter(([k]) => !coreSkip.some((s) => k.startsWith(`./${s.replace(/\/$/, '')}`)))
    .map(([k, v]) => [k, v.default]),
);
const corePkg = {
  name: core.name, version: core.version, description: core.description, license: core.license,
  type: core.type, engines: core.engines, exports: coreExports, dependencies: core.dependencies,
};

/** @type {Record<string, string>} */
const dependencies = { ...cli.dependencies };
for (const [name, range] of Object.entries(/** @type {Record<string, string>} */ (core.dependencies))) {
  if (dependencies[name] !== undefined && dependencies[name] !== range) {
    throw new Error(`${name}: the CLI asks for ${dependencies[name]}, @roam/core for ${range}; make them one range`);
  }
  dependencies[name] = range;
}
if (dependencies[core.name] !== core.version) throw new Error(`packages/cli depends on ${core.name}@${dependencies[core.name]}, the workspace has ${core.version}`);
const pkg = {
  name: cli.name, version: cli.version, description: cli.description, license: cli.license,
  keywords: cli.keywords, homepage: cli.homepage, repository: cli.repository,
  type: cli.type, engines: cli.engines, bin: cli.bin, files: ['dist'],
  dependencies: Object.fromEntries(Object.entries(dependencies).sort(([a], [b]) => (a < b ? -1 : 1))),
  bundleDependencies: Object.keys(dependencies).sort(),
};

/**
 * Files of the bundled packages that Node never loads: TypeScript sources and declarations, source
 * maps, build info (two thirds of their files; leaving them out halves the time to pack and install).
 */
const unused = /\.(ts|mts|cts|map|tsbuildinfo)$/;

const stage = mkdtempSync(join(tmpdir(), 'roam-pack-'));
try {
  const coreDir = join(stage, 'node_modules', ...core.name.split('/'));
  writeJson(join(stage, 'package.json'), pkg);
  mkdirSync(coreDir, { recursive: true });
  writeJson(join(coreDir, 'package.json'), corePkg);
  copy('.', ['README.md', 'LICENSE'], stage);
  copy('.', ['LICENSE'], coreDir);
  copy('packages/cli', builtFiles('packages/cli'), stage);
  copy('packages/core', builtFiles('packages/core', coreSkip), coreDir);
  for (const [key, e] of runtimeClosure(lock, ['packages/cli', 'packages/core'], [core.name])) {
    const from = join(repo, key);
    const installed = existsSync(join(from, 'package.json')) ? JSON.parse(readFileSync(join(from, 'package.json'), 'utf8')).version : undefined;
    if (installed !== e.version) throw new Error(`${key} is ${installed ?? 'missing'}, package-lock.json says ${e.version}: run npm install`);
    // A nested node_modules holds other entries of the closure (or dev-only packages): not copied here.
    cpSync(from, join(stage, key), { recursive: true, filter: (f) => f !== join(from, 'node_modules') && !(unused.test(f) && lstatSync(f).isFile()) });
  }

  mkdirSync(outDir, { recursive: true });
  const args = ['pack', '--json', '--ignore-scripts', '--pack-destination', outDir, ...(opts['dry-run'] ? ['--dry-run'] : [])];
  // Not the workspace settings of the `npm run` that started this script: npm packs the stage alone.
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^npm_config_(local_prefix|prefix|workspaces?|include_workspace_root)$/i.test(k)));
  const r = spawnSync('npm', args, { cwd: stage, env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  if (r.status !== 0) throw new Error(`npm pack failed (exit ${r.status})`);
  const [made] = /** @type {{ filename: string, size: number, unpackedSize: number, files: { path: string }[] }[]} */ (JSON.parse(r.stdout));
  if (!made) throw new Error('npm pack printed nothing');
  if (opts['dry-run']) {
    for (const f of made.files) console.log(f.path);
    console.log(`${made.files.length} files, ${(made.size / 1024).toFixed(0)} kB packed, ${(made.unpackedSize / 1024).toFixed(0)} kB unpacked (dry run: no tarball written)`);
  } else {
    const rel = relative(process.cwd(), join(outDir, made.filename));
    console.log(`${made.files.length} files, ${(made.size / 1024).toFixed(0)} kB; install with: npm i -g ${rel.startsWith('.') || rel.startsWith('/') ? rel : `./${rel}`}`);
    console.log(join(outDir, made.filename));
  }
} finally {
  rmSync(stage, { recursive: true, force: true });
}
