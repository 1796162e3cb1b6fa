import { ServiceNowSimulator } from '@exalate/simulators';
import { ServiceNowConnector } from '../src/index.js';
import { connectorContract } from './contract.js';

connectorContract('ServiceNow', async () => {
  const sim = new ServiceNowSimulator();
  const running = await sim.listen();
  return {
    connector: new ServiceNowConnector({ instanceUrl: running.url, auth: { username: 'exalate', password: 'exalate-password' } }),
    badCredentials: new ServiceNowConnector({ instanceUrl: running.url, auth: { username: 'exalate', password: 'expired' } }),
    userEmail: 'sync@acme.example',
    project: 'incident',
    itemType: 'incident',
    otherStatus: 'In Progress',
    assigneeEmail: 'bob@acme.example',
    priority: '1',
    customFieldName: 'Customer',
    findsUsers: true,
    parentType: 'incident',
    restPath: '/api/now/table/sys_user?sysparm_limit=1',
    description: { format: 'plain', value: 'Steps: open the cart' },
    comment: (text) => ({ format: 'plain', value: text }),
    clockResolutionMs: 1000,
    webhooks: false,
    commentInAnswer: false,
    missingKey: 'INC0099999',
    labelQuery: (label) => `u_labelsLIKE${label}`,
    injectFault: (status, times, retryAfter) => sim.faults.inject({ status, times, ...(retryAfter !== undefined ? { retryAfter } : {}) }),
    settled: () => sim.settled(),
    close: () => running.close(),
  };
});
