/**
 * IgnoreRules remembers its decisions: roamd asks it about every item each time it reports its sync
 * state, and each fresh decision runs every rule's regex on every parent of the name.
 */
import { describe, expect, it } from 'vitest';
import { IgnoreRules } from '../src/ignore.js';

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
});
