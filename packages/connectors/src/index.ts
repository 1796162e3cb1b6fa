export * from './connector.js';
export { AdoConnector } from './ado/connector.js';
export type { AdoConnection } from './ado/client.js';
