export { listen, FaultInjector, RateLimiter, credentials, type Fault, type RunningSimulator } from './common/http.js';
export { AdoSimulator, type AdoSimulatorOptions } from './ado/simulator.js';
export { seedAdoState, PROCESSES, type AdoState, type AdoSeed, type AdoWorkItem, type AdoComment, type AdoProject, type AdoIdentity } from './ado/state.js';
export { parseWiql, WiqlError } from './ado/wiql.js';
export { parseSimulatorArgs, startSimulator, type SimulatorCliOptions } from './cli.js';
export { JiraSimulator, type JiraSimulatorOptions } from './jira/simulator.js';
export { seedJiraState, ISSUE_TYPES, STATUSES, TRANSITIONS, PRIORITIES, type JiraState, type JiraSeed, type JiraFlavor, type JiraIssue } from './jira/state.js';
export { parseJql, jqlDate, JqlError } from './jira/jql.js';
