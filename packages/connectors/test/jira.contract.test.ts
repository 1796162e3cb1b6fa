import { JiraSimulator } from '@exalate/simulators';
import { JiraConnector } from '../src/index.js';
import { connectorContract, type ConnectorFixture } from './contract.js';

const adf = (text: string) => ({ type: 'doc', version: 1, content: [{ type: 'paragraph', content: [{ type: 'text', text }] }] });

/** The same site in either deployment: Cloud speaks REST v3 and ADF, Data Center REST v2 and wiki markup. */
async function jiraFixture(deployment: 'cloud' | 'datacenter'): Promise<ConnectorFixture> {
  const sim = new JiraSimulator({ seed: { flavor: deployment } });
  const running = await sim.listen();
  const cloud = deployment === 'cloud';
  const connector = (secret: string) =>
    new JiraConnector({ baseUrl: running.url, deployment, auth: cloud ? { email: 'sync@acme.example', apiToken: secret } : { personalAccessToken: secret } });
  return {
    connector: connector(cloud ? 'sync-token' : 'sync-pat'),
    badCredentials: connector('revoked'),
    userEmail: 'sync@acme.example',
    project: 'SUP',
    itemType: 'Bug',
    otherStatus: 'In Progress',
    assigneeEmail: 'bob@acme.example',
    priority: 'High',
    description: cloud ? { format: 'adf', value: adf('Steps: open the cart') } : { format: 'jira-wiki', value: 'h1. Steps\n* open the cart' },
    comment: (text) => (cloud ? { format: 'adf', value: adf(text) } : { format: 'jira-wiki', value: text }),
    clockResolutionMs: 1,
    webhooks: true,
    commentEventNamesComment: true,
    commentInAnswer: true,
    missingKey: 'SUP-999',
    labelQuery: (label) => `labels = "${label}"`,
    injectFault: (status, times, retryAfter) => sim.faults.inject({ status, times, ...(retryAfter !== undefined ? { retryAfter } : {}) }),
    settled: () => sim.settled(),
    close: () => running.close(),
  };
}

connectorContract('Jira Cloud', () => jiraFixture('cloud'));
connectorContract('Jira Data Center', () => jiraFixture('datacenter'));
