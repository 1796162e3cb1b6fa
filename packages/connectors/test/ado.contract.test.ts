import { AdoSimulator } from '@exalate/simulators';
import { WebApi, getPersonalAccessTokenHandler } from 'azure-devops-node-api';
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
    customFieldName: 'Customer',
    findsUsers: false,
    parentType: 'Epic',
    restPath: '/_apis/projects?api-version=7.1',
    description: { format: 'html', value: '<p>Steps: <b>open</b> the cart</p>' },
    comment: (text) => ({ format: 'html', value: `<p>${text}</p>` }),
    clockResolutionMs: 1,
    webhooks: true,
    commentInAnswer: true,
    missingKey: '999999',
    labelQuery: (label) => `[System.Tags] CONTAINS '${label}'`,
    injectFault: (status, times, retryAfter) => sim.faults.inject({ status, times, ...(retryAfter !== undefined ? { retryAfter } : {}) }),
    settled: () => sim.settled(),
    close: () => running.close(),
  };
});

describe('Azure DevOps comments are project-scoped', () => {
  let sim: AdoSimulator;
  let close: () => Promise<void>;
  let organizationUrl: string;
  beforeEach(async () => {
    sim = new AdoSimulator();
    const running = await sim.listen();
    close = running.close;
    organizationUrl = `${running.url}/acme`;
  });
  afterEach(() => close());

  it('comments on an item that moved to another project since the connector last saw it', async () => {
    const connector = new AdoConnector({ organizationUrl, personalAccessToken: 'sync-pat' });
    const made = await connector.createItem({ project: 'Development', type: 'Bug', summary: 'Moves later' });
    await connector.addComment(made.key, { format: 'html', value: '<p>before the move</p>' });
    // Someone else moves it (Operations has no Bug type); the connector still remembers Development.
    const wit = await new WebApi(organizationUrl, getPersonalAccessTokenHandler('sync-pat')).getWorkItemTrackingApi();
    await wit.updateWorkItem(
      null,
      [
        { op: 'add', path: '/fields/System.TeamProject', value: 'Operations' },
        { op: 'add', path: '/fields/System.WorkItemType', value: 'Issue' },
      ] as never,
      Number(made.key),
    );
    const moved = await new AdoConnector({ organizationUrl, personalAccessToken: 'sync-pat' }).getItem(made.key);
    expect(moved?.project).toBe('Operations');

    const comment = await connector.addComment(made.key, { format: 'html', value: '<p>after the move</p>' });
    await connector.updateComment(made.key, comment.id, { format: 'html', value: '<p>edited after the move</p>' });
    const item = await connector.getItem(made.key);
    expect(item?.comments.map((c) => c.body.value)).toEqual(['<p>before the move</p>', '<p>edited after the move</p>']);
  });

  it('says which is missing: the work item, or its comment', async () => {
    const connector = new AdoConnector({ organizationUrl, personalAccessToken: 'sync-pat' });
    await expect(connector.addComment('424242', { format: 'html', value: '<p>x</p>' })).rejects.toMatchObject({
      code: 'NOT_FOUND',
      message: expect.stringContaining('424242'),
    });
    const made = await connector.createItem({ project: 'Development', type: 'Bug', summary: 'Has no comment 77' });
    await expect(connector.updateComment(made.key, '77', { format: 'html', value: '<p>x</p>' })).rejects.toMatchObject({
      code: 'NOT_FOUND',
      message: expect.stringContaining('Comment 77'),
    });
  });
});
