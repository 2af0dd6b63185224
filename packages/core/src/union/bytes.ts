/** Byte helpers of the union log's view (pure). */

const NL = 0x0a;

/** Complete lines (each with its `\n`) of bytes that end with one, and where each starts. */
export function splitLines(b: Uint8Array): Array<{ start: number; line: Uint8Array }> {
  const out: Array<{ start: number; line: Uint8Array }> = [];
  let from = 0;
  for (let i = 0; i < b.length; i++) {
    if (b[i] === NL) {
      out.push({ start: from, line: b.subarray(from, i + 1) });
      from = i + 1;
    }
  }
  return out;
}

/** Offsets where a line starts in `b` (0, and after every `\n` but a last one). */
export function lineStarts(b: Uint8Array): number[] {
  const out = [0];
  for (let i = 0; i < b.length - 1; i++) if (b[i] === NL) out.push(i + 1);
  return out;
}

/** Whether the first `n` bytes of `a` and `b` are equal (both hold at least `n`). */
export function prefixEqual(a: Uint8Array, b: Uint8Array, n: number): boolean {
  if (a.length < n || b.length < n) return false;
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** The last offset where `needle` occurs in `hay`, or -1. */
export function lastIndexOf(hay: Uint8Array, needle: Uint8Array): number {
  if (needle.length === 0) return hay.length;
  for (let at = hay.length - needle.length; at >= 0; at--) {
    let i = 0;
    while (i < needle.length && hay[at + i] === needle[i]) i++;
    if (i === needle.length) return at;
  }
  return -1;
}
