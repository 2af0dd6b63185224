export * from './hash.js';
export * from './position.js';
export * from './chain.js';
