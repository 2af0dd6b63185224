/**
 * Short pairing codes: the CPace construction against the draft's own test vectors
 * (draft-irtf-cfrg-cpace, Appendix B.3, CPACE-RISTR255-SHA512), what a recorded run gives an
 * eavesdropper, and the code format (wordlist, entropy, typos).
 */
import { randomBytes } from 'node:crypto';
import { ristretto255 } from '@noble/curves/ed25519.js';
import { describe, expect, it } from 'vitest';
import { CPaceParty, calculateGenerator, generatorString, lvCat } from '../src/pairing/cpace.js';
import { MAX_NAMEPLATE, SHORT_CODE_BITS, formatShortCode, isShortCode, makeShortCode, parseShortCode, shortSecret } from '../src/machine/short-code.js';
import { WORDS } from '../src/machine/wordlist.js';

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const unhex = (h: string): Buffer => Buffer.from(h, 'hex');
const utf8 = (s: string): Buffer => Buffer.from(s, 'utf8');

/** The draft's published vector for ristretto255 / SHA-512. */
const V = {
  prs: utf8('Password'),
  ci: unhex('6f630b425f726573706f6e6465720b415f696e69746961746f72'),
  sid: unhex('7e4b4791d6a8ef019b936c79fb7f2c57'),
  generatorString:
    '11435061636552697374726574746f3235350850617373776f726464' + '00'.repeat(100) + '1a6f630b425f726573706f6e6465720b415f696e69746961746f72107e4b4791d6a8ef019b936c79fb7f2c57',
  generator: 'a6fc82c3b8968fbb2e06fee81ca858586dea50d248f0c7ca6a18b0902a30b36b',
  ya: unhex('da3d23700a9e5699258aef94dc060dfda5ebb61f02a5ea77fad53f4ff0976d08'),
  Ya: 'd40fb265a7abeaee7939d91a585fe59f7053f982c296ec413c624c669308f87a',
  yb: unhex('d2316b454718c35362d83d69df6320f38578ed5984651435e2949762d900b80d'),
  Yb: '08bcf6e9777a9c313a3db6daa510f2d398403319c2341bd506a92e672eb7e307',
  isk: '4c5469a16b2364c4b944ebc1a79e51d1674ad47db26e8718154f59faebfaa52d8346f30aa58377117eb20d527f2cbc5c76381f7fd372e89df8239f87f2e02ed1',
};

describe('CPace (draft-irtf-cfrg-cpace, CPACE-RISTR255-SHA512)', () => {
  it("reproduces the draft's test vector: generator string, generator, Y_a, Y_b, ISK on both sides", () => {
    expect(hex(generatorString(V.prs, V.ci, V.sid))).toBe(V.generatorString);
    expect(hex(calculateGenerator(V.prs, V.ci, V.sid).toBytes())).toBe(V.generator);
    const a = new CPaceParty('initiator', V.prs, V.ci, V.sid, utf8('ADa'), V.ya);
    const b = new CPaceParty('responder', V.prs, V.ci, V.sid, utf8('ADb'), V.yb);
    expect(hex(a.message)).toBe(V.Ya);
    expect(hex(b.message)).toBe(V.Yb);
    expect(hex(a.finish(b.message, utf8('ADb')))).toBe(V.isk);
    expect(hex(b.finish(a.message, utf8('ADa')))).toBe(V.isk);
  });

  it('agrees on a key with the same words, on different keys with other words; refuses the identity and junk', () => {
    const ci = lvCat(utf8('roam pair short v1'), utf8('inviter'), utf8('joiner'));
    const sid = randomBytes(16);
    const run = (pa: string, pb: string) => {
      const a = new CPaceParty('initiator', utf8(pa), ci, sid, utf8('joiner'));
      const b = new CPaceParty('responder', utf8(pb), ci, sid, utf8('inviter'));
      return [hex(a.finish(b.message, utf8('inviter'))), hex(b.finish(a.message, utf8('joiner')))];
    };
    const [x, y] = run('acid-acorn-acre', 'acid-acorn-acre');
    expect(x).toBe(y);
    const [u, v] = run('acid-acorn-acre', 'acid-acorn-acts');
    expect(u).not.toBe(v);
    const a = new CPaceParty('initiator', utf8('w'), ci, sid, utf8('joiner'));
    expect(() => a.finish(ristretto255.Point.ZERO.toBytes(), new Uint8Array(0))).toThrow(/identity/);
    expect(() => a.finish(new Uint8Array(32).fill(0xff), new Uint8Array(0))).toThrow(/malformed/);
  });

  it('a recorded run holds nothing that depends on the code alone: runs are unlinkable, no message is a function of the words', () => {
    // An eavesdropper's offline test needs something it can compute from a guess alone and
    // compare with the transcript. Every message is y·g with a fresh random y: the same words,
    // peers and session id twice give unrelated messages, and no message equals the generator (or
    // its hash) of the right words or of any guess.
    const code = makeShortCode();
    const ci = lvCat(utf8('roam pair short v1'), utf8('inviter'), utf8('joiner'));
    const sid = randomBytes(16);
    const transcripts = Array.from({ length: 20 }, () => {
      const a = new CPaceParty('initiator', shortSecret(code), ci, sid, utf8('joiner'));
      const b = new CPaceParty('responder', shortSecret(code), ci, sid, utf8('inviter'));
      return [hex(a.message), hex(b.message)];
    });
    const all = transcripts.flat();
    expect(new Set(all).size).toBe(all.length);
    const guesses = [code, ...Array.from({ length: 300 }, () => makeShortCode())];
    const derived = new Set(guesses.flatMap((g) => [hex(calculateGenerator(shortSecret(g), ci, sid).toBytes()), hex(shortSecret(g))]));
    expect(all.filter((m) => derived.has(m))).toEqual([]);
  });
});

describe('short codes', () => {
  it('a number and three words from a 1,295-word list: 31 bits of secret', () => {
    expect(WORDS).toHaveLength(1295);
    expect(new Set(WORDS).size).toBe(WORDS.length);
    expect(WORDS.every((w) => /^[a-z]{3,9}$/.test(w))).toBe(true);
    expect(SHORT_CODE_BITS).toBeGreaterThan(31);
    expect(SHORT_CODE_BITS).toBeLessThan(31.1);
    for (let i = 0; i < 200; i++) {
      const c = makeShortCode();
      const text = formatShortCode(c);
      expect(text).toMatch(/^\d{1,2}(-[a-z]+){3}$/);
      expect(c.nameplate).toBeGreaterThanOrEqual(1);
      expect(c.nameplate).toBeLessThanOrEqual(MAX_NAMEPLATE);
      expect(isShortCode(text)).toBe(true);
      expect(parseShortCode(` ${text.toUpperCase().replaceAll('-', ' ')} `)).toEqual(c);
    }
  });

  it('says which word is a typo, and refuses what is not a short code', () => {
    expect(isShortCode('roam1-abcdef')).toBe(false);
    expect(() => parseShortCode('7-acid-acron-acre')).toThrow(/typo.*"acron"/);
    expect(() => parseShortCode('7-acid-acorn')).toThrow(/2 part|3 part/);
    expect(() => parseShortCode('700-acid-acorn-acre')).toThrow(/number from 1 to 99/);
  });
});
