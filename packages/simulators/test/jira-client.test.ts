import { Version2Client, Version3Client } from 'jira.js';
import { JiraSimulator, type RunningSimulator } from '../src/index.js';

/** jira.js, unchanged, against the simulator: Version3Client on a Cloud site, Version2Client on Data Center. */
const doc = (text: string) => ({
  type: 'doc' as const,
  version: 1 as const,
  content: [{ type: 'paragraph' as const, content: [{ type: 'text' as const, text }] }],
});

describe('Cloud (REST v3)', () => {
  let sim: JiraSimulator;
  let running: RunningSimulator;
  let client: Version3Client;
  beforeEach(async () => {
    sim = new JiraSimulator({ seed: { flavor: 'cloud' } });
    running = await sim.listen();
    client = new Version3Client({ host: running.url, authentication: { basic: { email: 'alice@acme.example', apiToken: 'alice-token' } } });
  });
  afterEach(() => running.close());

  it('lists projects and their statuses', async () => {
    const page = await client.projects.searchProjects();
    expect(page.values?.map((p) => p.key)).toEqual(['SUP', 'ENG']);
    const statuses = await client.projects.getAllStatuses({ projectIdOrKey: 'SUP' });
    expect(statuses.find((t) => t.name === 'Bug')?.statuses?.map((s) => s.name)).toEqual(['To Do', 'In Progress', 'Done']);
  });

  it('creates, reads, edits and transitions an issue with an ADF description', async () => {
    const bob = sim.user('bob@acme.example')!;
    const created = await client.issues.createIssue({
      fields: {
        project: { key: 'SUP' },
        issuetype: { name: 'Bug' },
        summary: 'Checkout fails',
        description: doc('Steps to reproduce'),
        labels: ['customer'],
        priority: { name: 'High' },
        assignee: { accountId: bob.accountId },
      },
    });
    expect(created.key).toBe('SUP-1');
    const issue = await client.issues.getIssue({ issueIdOrKey: 'SUP-1' });
    expect(issue.fields).toMatchObject({
      summary: 'Checkout fails',
      labels: ['customer'],
      priority: { name: 'High' },
      status: { name: 'To Do' },
      assignee: { accountId: bob.accountId },
      description: doc('Steps to reproduce'),
    });
    await client.issues.editIssue({ issueIdOrKey: 'SUP-1', fields: { summary: 'Checkout fails on Safari' }, update: { labels: [{ add: 'safari' }] } });
    const transitions = await client.issues.getTransitions({ issueIdOrKey: 'SUP-1' });
    const inProgress = transitions.transitions!.find((t) => t.to?.name === 'In Progress')!;
    await client.issues.doTransition({ issueIdOrKey: 'SUP-1', transition: { id: inProgress.id! } });
    const after = await client.issues.getIssue({ issueIdOrKey: 'SUP-1', fields: ['summary', 'labels', 'status'] });
    expect(after.fields).toEqual({
      summary: 'Checkout fails on Safari',
      labels: ['customer', 'safari'],
      status: expect.objectContaining({ name: 'In Progress' }),
    });
    const changelog = await client.issues.getChangeLogs({ issueIdOrKey: 'SUP-1' });
    expect(changelog.values!.flatMap((h) => h.items!.map((i) => i.field))).toEqual(['summary', 'labels', 'status']);
  });

  it('refuses a plain-text description and setting the status directly', async () => {
    const raw = (fields: object) =>
      fetch(`${running.url}/rest/api/3/issue`, {
        method: 'POST',
        headers: { authorization: `Basic ${Buffer.from('alice@acme.example:alice-token').toString('base64')}`, 'content-type': 'application/json' },
        body: JSON.stringify({ fields }),
      });
    // jira.js wraps a string description into ADF itself, so the raw request shows what the API does.
    const plain = await raw({ project: { key: 'SUP' }, issuetype: { name: 'Task' }, summary: 'x', description: 'plain' });
    expect(plain.status).toBe(400);
    expect(await plain.json()).toEqual({
      errorMessages: [],
      errors: { description: 'Operation value must be an Atlassian Document (see the Atlassian Document Format).' },
    });
    const res = await fetch(`${running.url}/rest/api/3/issue`, {
      method: 'POST',
      headers: { authorization: `Basic ${Buffer.from('alice@acme.example:alice-token').toString('base64')}`, 'content-type': 'application/json' },
      body: JSON.stringify({ fields: { project: { key: 'SUP' }, issuetype: { name: 'Task' }, status: { name: 'Done' } } }),
    });
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({
      errorMessages: [],
      errors: { summary: 'You must specify a summary of the issue.', status: "Field 'status' cannot be set. It is not on the appropriate screen, or unknown." },
    });
  });

  it('searches with JQL across pages of the enhanced search', async () => {
    for (let i = 0; i < 5; i++)
      await client.issues.createIssue({
        fields: { project: { key: 'SUP' }, issuetype: { name: 'Task' }, summary: `Item ${i}`, labels: i % 2 ? ['odd'] : ['even'] },
      });
    const keys: string[] = [];
    let nextPageToken: string | undefined;
    do {
      const page = await client.issueSearch.searchForIssuesUsingJqlEnhancedSearch({
        jql: 'project = SUP AND labels = even ORDER BY created ASC',
        fields: ['summary', 'updated'],
        maxResults: 2,
        ...(nextPageToken ? { nextPageToken } : {}),
      });
      keys.push(...page.issues!.map((i) => i.key!));
      nextPageToken = page.nextPageToken;
    } while (nextPageToken);
    expect(keys).toEqual(['SUP-1', 'SUP-3', 'SUP-5']);
    await expect(client.issueSearch.searchForIssuesUsingJqlEnhancedSearch({ jql: 'project = SUP AND colour = red' })).rejects.toMatchObject({ status: 400 });
  });

  it('adds and edits comments, uploads and downloads attachments', async () => {
    await client.issues.createIssue({ fields: { project: { key: 'ENG' }, issuetype: { name: 'Story' }, summary: 'With extras' } });
    const c = await client.issueComments.addComment({ issueIdOrKey: 'ENG-1', comment: doc('First') });
    await client.issueComments.updateComment({ issueIdOrKey: 'ENG-1', id: c.id!, body: doc('First, edited') });
    const comments = await client.issueComments.getComments({ issueIdOrKey: 'ENG-1' });
    expect(comments.comments!.map((x) => x.body)).toEqual([doc('First, edited')]);
    const bytes = Buffer.from([1, 2, 3, 254, 255]);
    const [attachment] = await client.issueAttachments.addAttachment({
      issueIdOrKey: 'ENG-1',
      attachment: { filename: 'dump.bin', file: bytes, mimeType: 'application/octet-stream' },
    });
    expect(attachment).toMatchObject({ filename: 'dump.bin', size: 5 });
    const content = await client.issueAttachments.getAttachmentContent({ id: attachment!.id! });
    expect(Buffer.from(content as unknown as ArrayBuffer)).toEqual(bytes);
  });

  it('refuses bad credentials with 401 and upload without the XSRF header with 403', async () => {
    const bad = new Version3Client({ host: running.url, authentication: { basic: { email: 'alice@acme.example', apiToken: 'nope' } } });
    await expect(bad.myself.getCurrentUser()).rejects.toMatchObject({ status: 401 });
    await client.issues.createIssue({ fields: { project: { key: 'SUP' }, issuetype: { name: 'Task' }, summary: 'x' } });
    const form = new FormData();
    form.append('file', new Blob([Buffer.from('x')]), 'x.txt');
    const res = await fetch(`${running.url}/rest/api/3/issue/SUP-1/attachments`, {
      method: 'POST',
      headers: { authorization: `Basic ${Buffer.from('alice@acme.example:alice-token').toString('base64')}` },
      body: form,
    });
    expect(res.status).toBe(403);
  });
});

describe('Data Center (REST v2)', () => {
  it('creates and searches issues with wiki-markup descriptions and a bearer personal access token', async () => {
    const sim = new JiraSimulator({ seed: { flavor: 'datacenter' } });
    const running = await sim.listen();
    const client = new Version2Client({ host: running.url, authentication: { oauth2: { accessToken: 'sync-pat' } } });
    const created = await client.issues.createIssue({
      fields: { project: { key: 'SUP' }, issuetype: { name: 'Bug' }, summary: 'On prem', description: 'h1. Steps\n* one\n* two', assignee: { name: 'bob' } },
    });
    const issue = await client.issues.getIssue({ issueIdOrKey: created.key });
    expect(issue.fields).toMatchObject({
      summary: 'On prem',
      description: 'h1. Steps\n* one\n* two',
      assignee: { name: 'bob', emailAddress: 'bob@acme.example' },
    });
    const page = await client.issueSearch.searchForIssuesUsingJql({ jql: 'project = SUP AND assignee = bob', startAt: 0, maxResults: 10 });
    expect(page).toMatchObject({ total: 1, startAt: 0, issues: [expect.objectContaining({ key: 'SUP-1' })] });
    const me = await client.myself.getCurrentUser();
    expect(me).toMatchObject({ name: 'sync' });
    await running.close();
  });
});
