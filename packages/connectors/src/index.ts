export * from './connector.js';
export { AdoConnector } from './ado/connector.js';
export type { AdoConnection } from './ado/client.js';
export { JiraConnector } from './jira/connector.js';
export type { JiraConnection } from './jira/client.js';
export { ServiceNowConnector, type ServiceNowOptions } from './servicenow/connector.js';
export type { ServiceNowConnection } from './servicenow/client.js';
export { convertText } from './formats/convert.js';
export type { AdfNode } from './formats/adf.js';
