export * from './sandbox.js';
export * from './object-model.js';
export * from './default-rules.js';
