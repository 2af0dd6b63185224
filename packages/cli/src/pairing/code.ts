/** The pairing code's format lives in machine/pair-code.ts (the `roam pair` verb checks a code without pairing/). */
export * from '../machine/pair-code.js';
