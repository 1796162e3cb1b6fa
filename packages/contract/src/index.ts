export * from './errors.js';
export * from './node-info.js';
export * from './connection.js';
export * from './invitation-code.js';
export * from './peer-protocol.js';
export * from './replica.js';
export * from './sync.js';
export * from './settings.js';
