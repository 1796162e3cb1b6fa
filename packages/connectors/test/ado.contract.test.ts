import { AdoSimulator } from '@exalate/simulators';
import { AdoConnector } from '../src/index.js';
import { connectorContract } from './contract.js';

connectorContract('Azure DevOps', async () => {
  const sim = new AdoSimulator();
  const running = await sim.listen();
  const organizationUrl = `${running.url}/acme`;
  return {
    connector: new AdoConnector({ organizationUrl, personalAccessToken: 'sync-pat' }),
    badCredentials: new AdoConnector({ organizationUrl, personalAccessToken: 'revoked-pat' }),
    userEmail: 'sync@acme.example',
    project: 'Development',
    itemType: 'Bug',
    otherStatus: 'Active',
    assigneeEmail: 'bob@acme.example',
    priority: '1',
    description: { format: 'html', value: '<p>Steps: <b>open</b> the cart</p>' },
    comment: (text) => ({ format: 'html', value: `<p>${text}</p>` }),
    clockResolutionMs: 1,
    webhooks: true,
    missingKey: '999999',
    labelQuery: (label) => `[System.Tags] CONTAINS '${label}'`,
    injectFault: (status, times, retryAfter) => sim.faults.inject({ status, times, ...(retryAfter !== undefined ? { retryAfter } : {}) }),
    settled: () => sim.settled(),
    close: () => running.close(),
  };
});
