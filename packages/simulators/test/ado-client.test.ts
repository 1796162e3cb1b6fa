import { Readable } from 'node:stream';
import { WebApi, getPersonalAccessTokenHandler } from 'azure-devops-node-api';
import { AdoSimulator, type RunningSimulator } from '../src/index.js';

/** azure-devops-node-api, unchanged, against the simulator: location discovery, PAT auth, api-version negotiation. */
let sim: AdoSimulator;
let running: RunningSimulator;
let api: WebApi;

beforeEach(async () => {
  sim = new AdoSimulator();
  running = await sim.listen();
  api = new WebApi(`${running.url}/acme`, getPersonalAccessTokenHandler('alice-pat'));
});
afterEach(() => running.close());

const patch = (fields: Record<string, unknown>) => Object.entries(fields).map(([k, v]) => ({ op: 'add' as const, path: `/fields/${k}`, value: v }));

it('lists projects through the Core client', async () => {
  const core = await api.getCoreApi();
  const projects = await core.getProjects();
  expect(projects.map((p) => p.name)).toEqual(['Development', 'Operations']);
});

it('creates, reads, updates and queries work items through the WIT client', async () => {
  const wit = await api.getWorkItemTrackingApi();
  const created = await wit.createWorkItem(
    null,
    patch({
      'System.Title': 'Login fails',
      'System.Description': '<p>Steps: <b>one</b></p>',
      'System.Tags': 'customer; p1 ;customer',
      'System.AssignedTo': 'bob@acme.example',
    }),
    'Development',
    'Bug',
  );
  expect(created).toMatchObject({
    id: 1,
    rev: 1,
    fields: {
      'System.Title': 'Login fails',
      'System.State': 'New',
      'System.Tags': 'customer; p1',
      'System.WorkItemType': 'Bug',
      'Microsoft.VSTS.Common.Priority': 2,
    },
  });
  expect(created.fields!['System.AssignedTo']).toMatchObject({ displayName: 'Bob Builder', uniqueName: 'bob@acme.example' });
  expect(created.fields!['System.CreatedBy']).toMatchObject({ uniqueName: 'alice@acme.example' });

  const updated = await wit.updateWorkItem(
    null,
    [
      { op: 'test', path: '/rev', value: 1 },
      { op: 'replace', path: '/fields/System.State', value: 'Active' },
      { op: 'add', path: '/fields/Microsoft.VSTS.Common.Priority', value: 1 },
    ],
    1,
  );
  expect(updated).toMatchObject({ rev: 2, fields: { 'System.State': 'Active', 'Microsoft.VSTS.Common.Priority': 1 } });
  expect(new Date(updated.fields!['System.ChangedDate']).getTime()).toBeGreaterThan(new Date(created.fields!['System.ChangedDate']).getTime());

  await wit.createWorkItem(null, patch({ 'System.Title': 'Another' }), 'Development', 'Task');
  const fetched = await wit.getWorkItems([1, 2], ['System.Title']);
  expect(fetched.map((w) => w.fields)).toEqual([{ 'System.Title': 'Login fails' }, { 'System.Title': 'Another' }]);

  const result = await wit.queryByWiql(
    {
      query:
        "SELECT [System.Id] FROM WorkItems WHERE [System.TeamProject] = @project AND [System.WorkItemType] = 'Bug' AND [System.Tags] CONTAINS 'p1' ORDER BY [System.ChangedDate] DESC",
    },
    { project: 'Development' },
  );
  expect(result.workItems!.map((w) => w.id)).toEqual([1]);

  const updates = await wit.getUpdates(1);
  expect(updates.map((u) => u.rev)).toEqual([1, 2]);
  expect(updates[1]!.fields!['System.State']).toEqual({ oldValue: 'New', newValue: 'Active' });
});

it('adds, lists and edits comments; a comment is a new revision', async () => {
  const wit = await api.getWorkItemTrackingApi();
  await wit.createWorkItem(null, patch({ 'System.Title': 'With comments' }), 'Development', 'Bug');
  const c1 = await wit.addComment({ text: '<p>First</p>' }, 'Development', 1);
  await wit.addComment({ text: 'Second' }, 'Development', 1);
  expect(c1).toMatchObject({
    workItemId: 1,
    id: 1,
    version: 1,
    text: '<p>First</p>',
    format: 1 /* CommentFormat.Html */,
    createdBy: { uniqueName: 'alice@acme.example' },
  });
  const list = await wit.getComments('Development', 1);
  expect(list.totalCount).toBe(2);
  expect(list.comments!.map((c) => c.text)).toEqual(['Second', '<p>First</p>']);
  const edited = await wit.updateComment({ text: 'First, edited' }, 'Development', 1, c1.id!);
  expect(edited).toMatchObject({ version: 2, text: 'First, edited' });
  expect((await wit.getWorkItem(1)).fields).toMatchObject({ 'System.CommentCount': 2, 'System.Rev': 3 });
});

it('uploads an attachment, links it and downloads the same bytes', async () => {
  const wit = await api.getWorkItemTrackingApi();
  await wit.createWorkItem(null, patch({ 'System.Title': 'With a file' }), 'Development', 'Bug');
  const bytes = Buffer.from([0, 1, 2, 250, 251, 252]);
  const ref = await wit.createAttachment(null, Readable.from([bytes]), 'dump.bin', undefined, 'Development');
  expect(ref.url).toContain('/_apis/wit/attachments/');
  const linked = await wit.updateWorkItem(
    null,
    [{ op: 'add', path: '/relations/-', value: { rel: 'AttachedFile', url: ref.url, attributes: { comment: 'core dump' } } }],
    1,
    undefined,
    undefined,
    undefined,
    undefined,
    1 /* WorkItemExpand.Relations */,
  );
  expect(linked.relations).toEqual([
    expect.objectContaining({ rel: 'AttachedFile', attributes: expect.objectContaining({ name: 'dump.bin', resourceSize: 6, comment: 'core dump' }) }),
  ]);
  const stream = await wit.getAttachmentContent(ref.id!, 'dump.bin', 'Development', true);
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.from(chunk as Buffer));
  expect(Buffer.concat(chunks)).toEqual(bytes);
});

it('refuses a bad PAT with 401, as the client reports it', async () => {
  const bad = new WebApi(`${running.url}/acme`, getPersonalAccessTokenHandler('wrong'));
  // The client's first call (resource area discovery) is already refused.
  await expect(bad.getWorkItemTrackingApi().then((wit) => wit.getWorkItem(1))).rejects.toMatchObject({
    statusCode: 401,
    message: expect.stringMatching(/TF400813/),
  });
});

it("reports rule errors in the service's error body", async () => {
  const wit = await api.getWorkItemTrackingApi();
  await expect(wit.createWorkItem(null, patch({ 'System.Description': 'no title' }), 'Development', 'Bug')).rejects.toMatchObject({
    statusCode: 400,
    message: expect.stringMatching(/TF401320.*Title/),
  });
  await wit.createWorkItem(null, patch({ 'System.Title': 'x' }), 'Development', 'Bug');
  await expect(wit.updateWorkItem(null, [{ op: 'add', path: '/fields/System.State', value: 'Doing' }], 1)).rejects.toMatchObject({
    statusCode: 400,
    message: expect.stringMatching(/LimitedToValues/),
  });
  await expect(
    wit.updateWorkItem(
      null,
      [
        { op: 'test', path: '/rev', value: 7 },
        { op: 'add', path: '/fields/System.Title', value: 'y' },
      ],
      1,
    ),
  ).rejects.toMatchObject({ statusCode: 412 });
  // typed-rest-client turns a 404 into null, as it does against the service; the body is the service's.
  expect(await wit.getWorkItem(99)).toBeNull();
  const res = await fetch(`${running.url}/acme/_apis/wit/workitems/99?api-version=7.1`, {
    headers: { authorization: `Basic ${Buffer.from(':alice-pat').toString('base64')}` },
  });
  expect(res.status).toBe(404);
  expect(await res.json()).toMatchObject({ message: expect.stringMatching(/TF401232/), typeKey: 'WorkItemUnauthorizedAccessException', errorCode: 0 });
});
