export { nodeHasher } from './hash.js';
export { Journal, JournalMetaStore } from './journal.js';
export { checkParents, ensureParents, itemPath, lstatItem, openItem, O_NOFOLLOW } from './safe-path.js';
export { FsFolderStore, TEMP_PREFIX, trashStampTime, type FsFolderStoreOptions, type FsStoreStats, type TrashEntry } from './fs-store.js';
export type { SyncCounter } from './io.js';
export { DIR_MODE, openPinned, peerMode, setBeforeOpenHook } from './pinned-open.js';
