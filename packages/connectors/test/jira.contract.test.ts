import { JiraSimulator } from '@exalate/simulators';
import { convertText, JiraConnector, type TrackerItem } from '../src/index.js';
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
    customFieldName: 'Customer',
    findsUsers: true,
    parentType: 'Epic',
    restPath: cloud ? '/rest/api/3/myself' : '/rest/api/2/myself',
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

describe.each(['cloud', 'datacenter'] as const)('Jira %s: an issue’s comments', (deployment) => {
  const cloud = deployment === 'cloud';
  const body = (text: string) => (cloud ? { format: 'adf' as const, value: adf(text) } : { format: 'jira-wiki' as const, value: text });
  const start = async (issueCommentLimit?: number) => {
    const sim = new JiraSimulator({ seed: { flavor: deployment }, ...(issueCommentLimit !== undefined ? { issueCommentLimit } : {}) });
    const running = await sim.listen();
    const connector = new JiraConnector({
      baseUrl: running.url,
      deployment,
      auth: cloud ? { email: 'sync@acme.example', apiToken: 'sync-token' } : { personalAccessToken: 'sync-pat' },
    });
    const made = await connector.createItem({ project: 'SUP', type: 'Bug', summary: 'Talked about' });
    for (let i = 1; i <= 5; i += 1) await connector.addComment(made.key, body(`comment ${i}`));
    return { sim, running, connector, key: made.key };
  };
  const texts = (item: TrackerItem) => item.comments.map((c) => String(convertText(c.body, 'plain').value).trim());

  it('come with the issue, in one call, when its comment field holds them all', async () => {
    const { sim, running, connector, key } = await start();
    try {
      const before = sim.faults.calls.length;
      const item = await connector.getItem(key);
      expect(texts(item!)).toEqual(['comment 1', 'comment 2', 'comment 3', 'comment 4', 'comment 5']);
      expect(sim.faults.calls.slice(before)).toHaveLength(1);
      // An issue without comments too.
      const quiet = await connector.createItem({ project: 'SUP', type: 'Bug', summary: 'Not talked about' });
      const beforeQuiet = sim.faults.calls.length;
      expect((await connector.getItem(quiet.key))!.comments).toEqual([]);
      expect(sim.faults.calls.slice(beforeQuiet)).toHaveLength(1);
    } finally {
      await running.close();
    }
  });

  it('are read on by the comment API, in order, past what the issue’s comment field holds', async () => {
    const { sim, running, connector, key } = await start(2);
    try {
      const before = sim.faults.calls.length;
      const item = await connector.getItem(key);
      expect(texts(item!)).toEqual(['comment 1', 'comment 2', 'comment 3', 'comment 4', 'comment 5']);
      expect(sim.faults.calls.slice(before).filter((c) => /\/comment(\?|$)/.test(c))).toHaveLength(1);
    } finally {
      await running.close();
    }
  });
});
