export * from './state.js';
export * from './view.js';
