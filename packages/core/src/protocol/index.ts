/** The sync protocol: bounds, the message schema, and the frame codec. */
export * from './limits.js';
export * from './schema.js';
export * from './codec.js';
