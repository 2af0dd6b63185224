/**
 * The core is pure: outside `src/node/`, no file imports a Node built-in, libp2p, or anything that
 * does I/O. This reads every source file's import specifiers and fails on the first offender.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const src = fileURLToPath(new URL('../src', import.meta.url));
const pureDeps = new Set(['@msgpack/msgpack', 'zod', '@noble/hashes']);
const builtins = new Set(builtinModules.flatMap((m) => [m, `node:${m}`]));

function files(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? files(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : []));
}

/** Module specifiers of static imports, re-exports and dynamic imports. */
export function specifiers(code: string): string[] {
  const out: string[] = [];
  for (const m of code.matchAll(/(?:^|[;\s])(?:import|export)\s[^'"]*?from\s*['"]([^'"]+)['"]|(?:^|[;\s])import\s*['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)|require\(\s*['"]([^'"]+)['"]\s*\)/g)) {
    out.push(m[1] ?? m[2] ?? m[3] ?? m[4]!);
  }
  return out;
}

describe('core purity', () => {
  it('finds the imports it is meant to police', () => {
    expect(specifiers(`import { a } from 'node:fs';\nexport * from './x.js';\nimport 'libp2p';\nconst m = await import('os');`)).toEqual(['node:fs', './x.js', 'libp2p', 'os']);
  });

  it('imports no Node built-in, libp2p or other I/O module outside src/node', () => {
    const offenders: string[] = [];
    const pure = files(src).filter((f) => !relative(src, f).startsWith('node/'));
    expect(pure.length).toBeGreaterThan(10);
    for (const file of pure) {
      for (const spec of specifiers(readFileSync(file, 'utf8'))) {
        const pkg = spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0]!;
        const ok = spec.startsWith('.') ? !spec.includes('/node/') : !builtins.has(spec) && !builtins.has(pkg) && pureDeps.has(pkg);
        if (!ok) offenders.push(`${relative(src, file)} imports ${spec}`);
      }
    }
    expect(offenders).toEqual([]);
  });
});
