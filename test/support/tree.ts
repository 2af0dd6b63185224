/** A synced folder's tree as it replicates, for comparing a sender's folder with a receiver's. */
import { readTree } from '../conformance/driver.js';

export type Tree = Awaited<ReturnType<typeof readTree>>;

/**
 * A file's mode by its owner bits (a receiver keeps only those: 0644 → 0600), a directory's not at
 * all (a receiver makes its directories 0700).
 */
export const asReplicated = (t: Tree): Tree => t.map((e) => ({ ...e, mode: e.type === 'dir' ? 0 : e.mode & 0o700 }));

/** `dir`'s tree as it replicates. */
export const replicatedTree = async (dir: string): Promise<Tree> => asReplicated(await readTree(dir));
