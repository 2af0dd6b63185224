export * from './errors.js';
export * from './bytes.js';
export * from './names.js';
export * from './items.js';
export * from './store.js';
export * from './log/index.js';
export * from './replication/version.js';
