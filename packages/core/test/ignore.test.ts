/**
 * IgnoreRules remembers its decisions: roamd asks it about every item each time it reports its sync
 * state, and each fresh decision runs every rule's regex on every parent of the name.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { IgnoreRules, parseRules } from '../src/ignore.js';

describe('IgnoreRules', () => {
  it('decides as before, and tests the regexes once per name however often it is asked', () => {
    const rules = IgnoreRules.withDefaults(['*.log', '!keep.log', 'build/'], null);
    const names = ['p/s.jsonl', 'p/x.log', 'keep.log', 'p/node_modules/a.jsonl', 'build/out.jsonl', 'p/build/y', '.stignore', 'p/s.jsonl.swp'];
    const first = names.map((n) => rules.ignores(n));
    expect(first).toEqual([false, true, true, true, true, true, true, true]); // the first matching pattern decides: '*.log' before '!keep.log'

    let tests = 0;
    const test = RegExp.prototype.test;
    RegExp.prototype.test = function (this: RegExp, s: string) {
      tests++;
      return test.call(this, s);
    };
    try {
      for (let i = 0; i < 1000; i++) expect(names.map((n) => rules.ignores(n))).toEqual(first);
    } finally {
      RegExp.prototype.test = test;
    }
    expect(tests).toBe(0);
  });

  it('applies selective sync through the same memo', () => {
    const rules = IgnoreRules.withDefaults([], ['p1']);
    expect(rules.ignores('p1/a.jsonl')).toBe(false);
    expect(rules.ignores('p2/a.jsonl')).toBe(true);
    expect(rules.ignores('p2/a.jsonl')).toBe(true);
  });

  it('decides as the rules taken one by one do (first match on the name or a parent wins), for any names and rules', () => {
    // The reference: every rule's regex against every parent, in order, as Syncthing decides.
    const reference = (lines: string[], name: string): boolean => {
      const parts = name.split('/');
      const prefixes = parts.map((_, i) => parts.slice(0, i + 1).join('/'));
      for (const r of parseRules(lines)) if (prefixes.some((p) => r.re.test(p))) return !r.include;
      return false;
    };
    const seg = fc.constantFrom('a', 'B', 'keep', 'node_modules', 'x.log', 'X.LOG', 'build', 's.jsonl', '.cache', 'tool-results', 'wt-worktrees-1', 'f.swp');
    const nameArb = fc.array(seg, { minLength: 1, maxLength: 5 }).map((p) => p.join('/'));
    const ruleArb = fc.constantFrom('*.log', '!keep', '!x.log', '(?i)*.log', 'build/', '/a/**', 'a/*/s.jsonl', '!(?i)b', 'k?ep', '[kx]*', '**/tool-results', '!node_modules');
    fc.assert(
      fc.property(fc.array(ruleArb, { maxLength: 6 }), fc.array(nameArb, { minLength: 1, maxLength: 20 }), (own, names) => {
        const rules = IgnoreRules.withDefaults(own, null);
        const lines = [...rules.lines];
        for (const n of names) expect(rules.ignores(n)).toBe(reference(lines, n));
      }),
      { numRuns: 500 },
    );
  });
});
