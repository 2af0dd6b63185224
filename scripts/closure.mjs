// @ts-check
/**
 * The run-time dependencies of some workspaces, read from the workspace's package-lock.json: every
 * installed package that Node's resolution reaches from their `dependencies` (optional and peer
 * ones included when installed), as lock paths (`node_modules/a`, `node_modules/a/node_modules/b`).
 * Copying those folders keeps the layout npm chose, so each package resolves the very copy it
 * resolved in the checkout.
 */

/**
 * @typedef {{ version?: string, link?: boolean, resolved?: string,
 *   dependencies?: Record<string, string>, optionalDependencies?: Record<string, string>,
 *   peerDependencies?: Record<string, string>, peerDependenciesMeta?: Record<string, { optional?: boolean }> }} LockEntry
 * @typedef {{ lockfileVersion: number, packages: Record<string, LockEntry> }} Lockfile
 */

/**
 * Where Node's resolution finds `name` from the package at lock path `from` (`packages/cli`,
 * `node_modules/a`, `node_modules/a/node_modules/b`): its own node_modules, then each ancestor's.
 * @param {Lockfile} lock @param {string} from @param {string} name
 * @returns {string | undefined}
 */
function resolve(lock, from, name) {
  let dir = from;
  for (;;) {
    const key = dir === '' ? `node_modules/${name}` : `${dir}/node_modules/${name}`;
    if (lock.packages[key]) return key;
    if (dir === '') return undefined;
    const i = dir.lastIndexOf('/node_modules/');
    dir = i >= 0 ? dir.slice(0, i) : '';
  }
}

/**
 * @param {Lockfile} lock the workspace's package-lock.json
 * @param {readonly string[]} workspaces lock paths of the workspaces (`packages/cli`)
 * @param {readonly string[]} skip dependency names not to follow (the workspaces themselves, copied apart)
 * @returns {Map<string, LockEntry>} lock path → entry, sorted by path (a parent before its nested packages)
 */
export function runtimeClosure(lock, workspaces, skip) {
  if (!(lock.lockfileVersion >= 2)) throw new Error('package-lock.json: lockfileVersion 2 or 3 needed');
  /** @type {Map<string, LockEntry>} */
  const taken = new Map();
  /** @type {[string, string, boolean][]} lock path to resolve from, dependency name, optional */
  const queue = [];
  const follow = (/** @type {string} */ from, /** @type {LockEntry} */ e) => {
    for (const n of Object.keys(e.dependencies ?? {})) queue.push([from, n, false]);
    for (const n of Object.keys(e.optionalDependencies ?? {})) queue.push([from, n, true]);
    for (const n of Object.keys(e.peerDependencies ?? {})) queue.push([from, n, e.peerDependenciesMeta?.[n]?.optional === true]);
  };
  for (const ws of workspaces) {
    const e = lock.packages[ws];
    if (!e) throw new Error(`package-lock.json has no ${ws}: run npm install`);
    follow(ws, e);
  }
  for (let job = queue.shift(); job; job = queue.shift()) {
    const [from, name, optional] = job;
    if (skip.includes(name)) continue;
    const key = resolve(lock, from, name);
    if (!key) {
      if (optional) continue;
      throw new Error(`package-lock.json: ${name} (needed by ${from}) is not installed: run npm install`);
    }
    if (taken.has(key)) continue;
    const e = /** @type {LockEntry} */ (lock.packages[key]);
    if (e.link) throw new Error(`package-lock.json: ${key} is a link to ${e.resolved}; only the workspaces may be`);
    if (!key.startsWith('node_modules/')) throw new Error(`package-lock.json: ${key} lies inside a workspace; the package cannot place it`);
    taken.set(key, e);
    follow(key, e);
  }
  return new Map([...taken].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}
