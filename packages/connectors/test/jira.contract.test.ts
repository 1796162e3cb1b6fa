import { JiraSimulator } from '@exalate/simulators';
import { JiraConnector } from '../src/index.js';
import { connectorContract } from './contract.js';

const adf = (text: string) => ({ type: 'doc', version: 1, content: [{ type: 'paragraph', content: [{ type: 'text', text }] }] });

connectorContract('Jira Cloud', async () => {
  const sim = new JiraSimulator({ seed: { flavor: 'cloud' } });
  const running = await sim.listen();
  return {
    connector: new JiraConnector({ baseUrl: running.url, deployment: 'cloud', auth: { email: 'sync@acme.example', apiToken: 'sync-token' } }),
    badCredentials: new JiraConnector({ baseUrl: running.url, deployment: 'cloud', auth: { email: 'sync@acme.example', apiToken: 'revoked' } }),
    project: 'SUP',
    itemType: 'Bug',
    otherStatus: 'In Progress',
    assigneeEmail: 'bob@acme.example',
    priority: 'High',
    description: { format: 'adf', value: adf('Steps: open the cart') },
    comment: (text) => ({ format: 'adf', value: adf(text) }),
    clockResolutionMs: 1,
    webhooks: true,
    missingKey: 'SUP-999',
    labelQuery: (label) => `labels = "${label}"`,
    injectFault: (status, times, retryAfter) => sim.faults.inject({ status, times, ...(retryAfter !== undefined ? { retryAfter } : {}) }),
    settled: () => sim.settled(),
    close: () => running.close(),
  };
});

connectorContract('Jira Data Center', async () => {
  const sim = new JiraSimulator({ seed: { flavor: 'datacenter' } });
  const running = await sim.listen();
  return {
    connector: new JiraConnector({ baseUrl: running.url, deployment: 'datacenter', auth: { personalAccessToken: 'sync-pat' } }),
    badCredentials: new JiraConnector({ baseUrl: running.url, deployment: 'datacenter', auth: { personalAccessToken: 'revoked' } }),
    project: 'SUP',
    itemType: 'Bug',
    otherStatus: 'In Progress',
    assigneeEmail: 'bob@acme.example',
    priority: 'High',
    description: { format: 'jira-wiki', value: 'h1. Steps\n* open the cart' },
    comment: (text) => ({ format: 'jira-wiki', value: text }),
    clockResolutionMs: 1,
    webhooks: true,
    missingKey: 'SUP-999',
    labelQuery: (label) => `labels = "${label}"`,
    injectFault: (status, times, retryAfter) => sim.faults.inject({ status, times, ...(retryAfter !== undefined ? { retryAfter } : {}) }),
    settled: () => sim.settled(),
    close: () => running.close(),
  };
});
