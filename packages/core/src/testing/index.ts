export * from './clock.js';
export * from './memory-store.js';
export * from './network.js';
export * from './link-pair.js';
