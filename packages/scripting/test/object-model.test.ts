import { createRequire } from 'node:module';
import type { NodeType, Replica } from '@exalate/contract';
import { ScriptRunner, type ScriptHost, type ScriptItem } from '@exalate/scripting';

// The object model of Exalate's scripts as our rules see it: named values with `.name`/`.key`
// that are still strings, `typeName`/`projectKey`, `setStatus`, and maps that always exist.

const host = (platform: NodeType = 'JIRA_CLOUD', itemTypes = ['Bug', 'Task', 'Story']): ScriptHost => ({ platform, itemTypes });
const replica: Replica = { key: 'ADO-7', summary: 'From the partner', type: 'Bug', status: 'Active', priority: '2', project: 'Fabrikam' } as Replica;
const local: ScriptItem = { key: 'SUP-3', project: 'SUP', type: 'Story', status: 'To Do', priority: 'High', summary: 'Here', labels: [], customFields: {} };

let runner: ScriptRunner;
beforeAll(async () => {
  // The connectors' text converter, as the backend gives it to its runner.
  runner = await ScriptRunner.create({
    timeoutMs: 2_000,
    memoryBytes: 8 * 1024 * 1024,
    converter: createRequire(import.meta.url).resolve('@exalate/connectors/formats'),
  });
});
afterAll(() => runner.close());

const incoming = async (script: string, o: { issue?: ScriptItem; firstSync?: boolean } = {}) => {
  const out = await runner.runIncoming(script, { issue: o.issue ?? local, replica, previous: null, firstSync: o.firstSync ?? false }, host());
  if (!out.ok) throw new Error(out.error.message);
  return out.value;
};

describe('named values', () => {
  it('have a .name (a project also its .key) and are still strings: they compare, print and index as their name', async () => {
    const value = await incoming(
      [
        `issue.labels = [replica.status.name, replica.type.name, replica.project.key, replica.priority.name, issue.project.key, issue.status.name];`,
        `issue.labels.push(String(replica.status == 'Active'), String(replica.status === 'Active'), String(replica.status), typeof replica.status);`,
        `var statusMap = { 'Active': 'In Progress', 'Closed': 'Done' };`,
        `issue.labels.push(statusMap[replica.status.name], statusMap[replica.status]);`,
      ].join('\n'),
    );
    expect(value.labels).toEqual(['Active', 'Bug', 'Fabrikam', '2', 'SUP', 'To Do', 'true', 'true', 'Active', 'string', 'In Progress', 'In Progress']);
  });

  it('.name, .key and a text’s .value are the strings themselves (=== holds)', async () => {
    const value = await incoming(
      `issue.labels = [typeof replica.status.name, String(replica.status.name === 'Active'), typeof replica.project.key, String(replica.project.key === 'Fabrikam')];`,
    );
    expect(value.labels).toEqual(['string', 'true', 'string', 'true']);
  });

  it("the docs' status map: issue.setStatus(statusMap[replica.status.name]) sets the status the engine moves the item to", async () => {
    const value = await incoming(
      `var statusMap = { 'New': 'To Do', 'Active': 'In Progress', 'Closed': 'Done' };\nissue.setStatus(statusMap[replica.status.name]);`,
    );
    expect(value.status).toBe('In Progress');
    expect(await incoming(`issue.status = replica.status;`)).toMatchObject({ status: 'Active' });
  });

  it('setStatus without a status is the rule’s error, on its line', async () => {
    const out = await runner.runIncoming(`\nissue.setStatus();`, { issue: local, replica, previous: null, firstSync: false }, host());
    expect(out).toMatchObject({
      ok: false,
      error: { code: 'SCRIPT_ERROR', line: 2, message: expect.stringContaining('setStatus takes the name of a status') },
    });
  });

  it('an object with a name, as nodeHelper.getIssueType gives, is taken by its name (a project by its key)', async () => {
    expect(await incoming(`issue.type = nodeHelper.getIssueType(replica.type.name);`)).toMatchObject({ type: 'Bug' });
    expect(await incoming(`issue.priority = { name: 'Low', id: '4' };\nissue.project = { key: 'OPS', name: 'Operations' };`)).toMatchObject({
      priority: 'Low',
      project: 'OPS',
    });
  });
});

describe("Exalate's names for the local item", () => {
  it('typeName and projectKey set the type and project of a new item, as on an Exalate create', async () => {
    const value = await incoming(`if (firstSync) {\n  issue.projectKey = 'OPS';\n  issue.typeName = nodeHelper.getIssueType(replica.type.name).name;\n}`, {
      issue: { project: 'SUP' },
      firstSync: true,
    });
    expect(value).toMatchObject({ project: 'OPS', type: 'Bug' });
    expect(value).not.toHaveProperty('typeName');
    expect(value).not.toHaveProperty('projectKey');
  });

  it('read as the type and project; left alone, they change nothing', async () => {
    const value = await incoming(`issue.summary = issue.typeName + ' in ' + issue.projectKey;\nissue.type = 'Task';`);
    expect(value).toMatchObject({ summary: 'Story in SUP', type: 'Task', project: 'SUP' });
  });
});

describe('maps that always exist', () => {
  it('replica.customFields and replica.customKeys, and issue.customFields on a new item', async () => {
    const value = await incoming(
      `issue.labels = [typeof replica.customFields, typeof replica.customKeys, typeof issue.customFields, String(Object.keys(replica.customFields).length)];`,
      { issue: { project: 'SUP' }, firstSync: true },
    );
    expect(value.labels).toEqual(['object', 'object', 'object', '0']);
    const out = await runner.runOutgoing(
      `replica.key = issue.key;\nreplica.labels = [typeof replica.customFields, typeof replica.customKeys];`,
      { issue: local, previous: null, firstSync: false },
      host(),
    );
    expect(out).toMatchObject({ ok: true, value: { labels: ['object', 'object'] } });
  });

  it('left empty, they are not in the replica sent: a replica is what it was before they existed', async () => {
    const out = await runner.runOutgoing(`replica.key = issue.key;`, { issue: local, previous: null, firstSync: false }, host());
    expect(out).toEqual({ ok: true, value: { key: 'SUP-3' }, logs: [] });
    const kept = await runner.runOutgoing(
      `replica.key = issue.key;\nreplica.customKeys.team = 'blue';`,
      { issue: local, previous: null, firstSync: false },
      host(),
    );
    expect(kept).toMatchObject({ ok: true, value: { key: 'SUP-3', customKeys: { team: 'blue' } } });
  });
});

describe('texts are strings, their format beside them', () => {
  const partner: Replica = {
    key: 'ADO-9',
    description: { format: 'html', value: '<p>The printer is <strong>on fire</strong> again</p>' },
    comments: [{ id: '5', body: { format: 'html', value: '<p>Still burning</p>' }, author: { displayName: 'Bob', email: 'bob@acme.test' } }],
  } as Replica;
  const here: ScriptItem = { key: 'SUP-4', project: 'SUP', description: { format: 'jira-wiki', value: 'Local *words*' }, comments: [], customFields: {} };
  const run = async (script: string) => {
    const out = await runner.runIncoming(script, { issue: here, replica: partner, previous: null, firstSync: false }, host('JIRA_CLOUD'));
    if (!out.ok) throw new Error(out.error.message);
    return out.value;
  };

  it('read as strings, with .format and .value as before', async () => {
    const value = await run(
      `issue.labels = [typeof replica.description, String(replica.description.length), replica.description.format, issue.description.format, replica.comments[0].body, replica.comments[0].body.value];`,
    );
    expect(value.labels).toEqual(['string', '52', 'html', 'jira-wiki', '<p>Still burning</p>', '<p>Still burning</p>']);
  });

  it("go back in the format of the text they are, or are built from, else in the tracker's own", async () => {
    expect((await run(`issue.description = replica.description;`)).description).toEqual(partner.description);
    expect((await run(`issue.description = 'From the partner: ' + replica.description;`)).description).toEqual({
      format: 'html',
      value: 'From the partner: <p>The printer is <strong>on fire</strong> again</p>',
    });
    expect((await run(`issue.description = 'Made up *here*';`)).description).toEqual({ format: 'jira-wiki', value: 'Made up *here*' });
    expect((await run(`issue.description = nodeHelper.stripHtml(replica.description);`)).description).toEqual({
      format: 'plain',
      value: 'The printer is on fire again',
    });
    expect((await run(`issue.description = { format: 'plain', value: 'as an object' };`)).description).toEqual({ format: 'plain', value: 'as an object' });
  });

  it("comment bodies too: an author prefix keeps the partner's format", async () => {
    const value = await run(
      `issue.comments = commentHelper.mergeComments(issue, replica);\nissue.comments.forEach(function (c) { c.body = '[' + c.author.displayName + ']: ' + c.body; });`,
    );
    expect(value.comments).toEqual([expect.objectContaining({ remoteId: '5', body: { format: 'html', value: '[Bob]: <p>Still burning</p>' } })]);
  });

  it("mergeComments with a function, as the docs' closures: each of the partner's comments through it", async () => {
    const formatted = await run(
      [
        `issue.comments = commentHelper.mergeComments(issue, replica, function (comment) {`,
        `  comment.body = '[' + comment.author.displayName + '| mailto:' + comment.author.email + '] commented: ' + comment.body;`,
        `});`,
      ].join('\n'),
    );
    expect(formatted.comments).toEqual([
      expect.objectContaining({ remoteId: '5', body: { format: 'html', value: '[Bob| mailto:bob@acme.test] commented: <p>Still burning</p>' } }),
    ]);
    // `{ it }`, and a function that returns another comment.
    expect((await run(`issue.comments = commentHelper.mergeComments(issue, replica, (it) => it);`)).comments).toEqual([
      expect.objectContaining({ remoteId: '5', body: partner.comments![0]!.body }),
    ]);
    expect((await run(`issue.comments = commentHelper.mergeComments(issue, replica, (c) => ({ remoteId: c.remoteId, body: 'replaced' }));`)).comments).toEqual([
      { remoteId: '5', body: { format: 'html', value: 'replaced' } },
    ]);
    // Built from a conversion, it is in the converted format, not the comment's.
    expect(
      (
        await run(
          `issue.comments = commentHelper.mergeComments(issue, replica, (c) => { c.body = 'From ' + c.author.displayName + ': ' + nodeHelper.stripHtml(c.body + '<p>and more words here</p>'); });`,
        )
      ).comments,
    ).toEqual([expect.objectContaining({ remoteId: '5', body: { format: 'plain', value: expect.stringMatching(/^From Bob: Still burning/) } })]);
    // An edited comment is made the same way on every merge.
    const known: ScriptItem = { ...here, comments: [{ id: 'c1', remoteId: '5', body: { format: 'html', value: 'old' } }] };
    const again = await runner.runIncoming(
      `issue.comments = commentHelper.mergeComments(issue, replica, (c) => { c.body = '> ' + c.body; });`,
      { issue: known, replica: partner, previous: null, firstSync: false },
      host('JIRA_CLOUD'),
    );
    expect(again).toMatchObject({ ok: true, value: { comments: [{ id: 'c1', remoteId: '5', body: { format: 'html', value: '> <p>Still burning</p>' } }] } });
  });

  it('an error in the function is the rule’s, as it threw it', async () => {
    const out = await runner.runIncoming(
      `issue.comments = commentHelper.mergeComments(issue, replica, function (c) {\n  throw new com.exalate.api.exception.IssueTrackerException('no comments from ' + c.author.displayName);\n});`,
      { issue: here, replica: partner, previous: null, firstSync: false },
      host('JIRA_CLOUD'),
    );
    expect(out).toMatchObject({ ok: false, error: { code: 'SCRIPT_ERROR', message: 'no comments from Bob', raisedByRule: true, line: 2 } });
  });

  it("an outgoing rule sends this side's texts as before, and may send a plain string", async () => {
    const out = await runner.runOutgoing(
      `replica.key = issue.key;\nreplica.description = issue.description;`,
      { issue: here, previous: null, firstSync: false },
      host('JIRA_CLOUD'),
    );
    expect(out).toMatchObject({ ok: true, value: { description: { format: 'jira-wiki', value: 'Local *words*' } } });
    const plain = await runner.runOutgoing(
      `replica.key = issue.key;\nreplica.description = 'Sent as words';`,
      { issue: here, previous: null, firstSync: false },
      host('AZURE_DEVOPS'),
    );
    expect(plain).toMatchObject({ ok: true, value: { description: { format: 'html', value: 'Sent as words' } } });
  });
});

describe('helpers of published scripts', () => {
  const withWorkflow: ScriptHost = {
    platform: 'JIRA_CLOUD',
    itemTypes: ['Bug'],
    statuses: ['To Do', 'In Progress', 'Done'],
    priorities: ['Highest', 'High', 'Medium', 'Low'],
    trackerUrl: 'https://jira.acme.test',
  };

  it("nodeHelper.getPriority finds one of the tracker's priorities by name, or gives null", async () => {
    const out = await runner.runIncoming(
      `issue.priority = nodeHelper.getPriority(replica.priority == '2' ? 'high' : 'low');\nissue.labels = [String(nodeHelper.getPriority('Urgent'))];`,
      { issue: local, replica, previous: null, firstSync: false },
      withWorkflow,
    );
    expect(out).toMatchObject({ ok: true, value: { priority: 'High', labels: ['null'] } });
  });

  it('nodeHelper.getStatus finds a status of the workflow by name (any case), or gives null', async () => {
    const out = await runner.runIncoming(
      `var s = nodeHelper.getStatus('in progress');\nissue.labels = [s.name, String(nodeHelper.getStatus('Resolved'))];\nissue.setStatus(nodeHelper.getStatus('done'));`,
      { issue: local, replica, previous: null, firstSync: false },
      withWorkflow,
    );
    expect(out).toMatchObject({ ok: true, value: { labels: ['In Progress', 'null'], status: 'Done' } });
  });

  it('syncHelper.syncBackAfterProcessing asks the engine to send the item back once written', async () => {
    const asked = await runner.runIncoming(
      `issue.summary = 'x';\nsyncHelper.syncBackAfterProcessing();`,
      { issue: local, replica, previous: null, firstSync: false },
      host(),
    );
    expect(asked).toMatchObject({ ok: true, syncBack: true });
    const not = await runner.runIncoming(`issue.summary = 'x';`, { issue: local, replica, previous: null, firstSync: false }, host());
    expect(not).toMatchObject({ ok: true });
    expect(not).not.toHaveProperty('syncBack');
  });

  it('syncHelper.getTrackerUrl gives the node’s tracker', async () => {
    const out = await runner.runOutgoing(
      `replica.key = issue.key;\nreplica.url = syncHelper.getTrackerUrl() + '/browse/' + issue.key;`,
      { issue: local, previous: null, firstSync: false },
      withWorkflow,
    );
    expect(out).toMatchObject({ ok: true, value: { url: 'https://jira.acme.test/browse/SUP-3' } });
  });

  it('nodeHelper.stripHtmlFromComments sends the bodies as plain text', async () => {
    const ado: ScriptItem = {
      key: '7',
      project: 'Fabrikam',
      comments: [{ id: '1', body: { format: 'html', value: '<p>Call <b>Bob</b></p>' } }],
      customFields: {},
    };
    const out = await runner.runOutgoing(
      `replica.key = issue.key;\nreplica.comments = nodeHelper.stripHtmlFromComments(workItem.comments);`,
      { issue: ado, previous: null, firstSync: false },
      host('AZURE_DEVOPS'),
    );
    expect(out).toMatchObject({ ok: true, value: { comments: [{ id: '1', body: { format: 'plain', value: 'Call Bob' } }] } });
  });
});

describe("what changed in the partner's replica since the previous one", () => {
  const before: Replica = {
    key: 'ADO-9',
    comments: [
      { id: '1', body: { format: 'html', value: '<p>kept</p>' } },
      { id: '2', body: { format: 'html', value: '<p>edited</p>' } },
      { id: '3', body: { format: 'html', value: '<p>gone</p>' } },
    ],
    attachments: [{ id: 'a1', filename: 'old.log', mimeType: 'text/plain', size: 1, sha256: null }],
  } as Replica;
  const now: Replica = {
    key: 'ADO-9',
    comments: [
      { id: '1', body: { format: 'html', value: '<p>kept</p>' } },
      { id: '2', body: { format: 'html', value: '<p>edited, now</p>' } },
      { id: '4', body: { format: 'html', value: '<p>new</p>' }, author: { displayName: 'Bob', email: 'bob@acme.test' } },
    ],
    attachments: [{ id: 'a2', filename: 'new.log', mimeType: 'text/plain', size: 2, sha256: null }],
  } as Replica;
  const ids = `function ids(list) { return list.map(function (e) { return e.remoteId; }).join(','); }\n`;

  it('added, changed and removed comments and attachments, by the partner’s ids', async () => {
    const out = await runner.runIncoming(
      `${ids}issue.labels = [ids(replica.addedComments), ids(replica.changedComments), ids(replica.removedComments), ids(replica.addedAttachments), ids(replica.removedAttachments)];`,
      { issue: local, replica: now, previous: before, firstSync: false },
      host(),
    );
    expect(out).toMatchObject({ ok: true, value: { labels: ['4', '2', '3', 'a2', 'a1'] } });
  });

  it("Groovy's `issue.comments += replica.addedComments`, as concat: the new comment, in the partner's format", async () => {
    const out = await runner.runIncoming(
      `issue.comments = issue.comments.concat(replica.addedComments);`,
      {
        issue: { ...local, comments: [{ id: 'c1', remoteId: '1', body: { format: 'jira-wiki', value: 'kept' } }] },
        replica: now,
        previous: before,
        firstSync: false,
      },
      host(),
    );
    expect(out).toMatchObject({
      ok: true,
      value: {
        comments: [
          { id: 'c1', remoteId: '1' },
          { remoteId: '4', author: { displayName: 'Bob' }, body: { format: 'html', value: '<p>new</p>' } },
        ],
      },
    });
  });

  it('on a first sync everything is added', async () => {
    const out = await runner.runIncoming(
      `${ids}issue.labels = [ids(replica.addedComments), ids(replica.removedComments)];`,
      { issue: { project: 'SUP' }, replica: now, previous: null, firstSync: true },
      host(),
    );
    expect(out).toMatchObject({ ok: true, value: { labels: ['1,2,4', ''] } });
  });
});

describe("Azure DevOps' names", () => {
  const workItem: ScriptItem = {
    key: '42',
    project: 'Fabrikam',
    type: 'Bug',
    summary: 'Printer',
    status: 'New',
    priority: '2',
    labels: ['a', 'b'],
    customFields: { 'System.AreaPath': 'Fabrikam', 'System.IterationPath': 'Fabrikam\\Sprint 1', 'Microsoft.VSTS.Common.Severity': '3 - Medium' },
  };
  const ado = async (script: string, issue: ScriptItem = workItem, firstSync = false) => {
    const out = await runner.runIncoming(script, { issue, replica, previous: null, firstSync }, host('AZURE_DEVOPS'));
    if (!out.ok) throw new Error(out.error.message);
    return out.value;
  };

  it('areaPath, iterationPath and any field by reference name read as Exalate’s do', async () => {
    const value = await ado(
      `workItem.labels = [workItem.areaPath, workItem.iterationPath, workItem['Microsoft.VSTS.Common.Severity'], workItem['System.Title'], workItem['System.State'], String(workItem['Microsoft.VSTS.Common.Priority']), workItem['System.Tags']];`,
    );
    expect(value.labels).toEqual(['Fabrikam', 'Fabrikam\\Sprint 1', '3 - Medium', 'Printer', 'New', '2', 'a; b']);
  });

  it('what the rule sets under them goes where it belongs; what it leaves alone changes nothing', async () => {
    const value = await ado(
      `workItem.areaPath = 'Fabrikam\\\\Support';\nworkItem['Microsoft.VSTS.Common.Severity'] = '2 - High';\nworkItem['Custom.Team'] = 'Blue';\nworkItem['System.Title'] = 'Renamed';\nworkItem['System.Tags'] = 'x; y';`,
    );
    // Only what the rule changed goes back to be written: the iteration path it left alone does not.
    expect(value).toMatchObject({ summary: 'Renamed', labels: ['x', 'y'] });
    expect(value.customFields).toEqual({ 'System.AreaPath': 'Fabrikam\\Support', 'Microsoft.VSTS.Common.Severity': '2 - High', 'Custom.Team': 'Blue' });
    expect(Object.keys(value).filter((k) => k.includes('.') || k === 'areaPath')).toEqual([]);
    expect(await ado(`workItem.summary = 'Only this';`)).toMatchObject({ summary: 'Only this', status: 'New', customFields: {} });
  });

  it('on a new work item, an area path set by the rule goes with the create', async () => {
    const value = await ado(`workItem.typeName = 'Bug';\nworkItem.areaPath = workItem.projectKey + '\\\\Support';`, { project: 'Fabrikam' }, true);
    expect(value).toMatchObject({ type: 'Bug', customFields: { 'System.AreaPath': 'Fabrikam\\Support' } });
  });
});

describe('custom fields by display name', () => {
  const fields = [
    { id: 'customfield_10010', name: 'Customer', type: 'string' },
    { id: 'customfield_10011', name: 'Story Points', type: 'number' },
    { id: 'customfield_10012', name: 'Target Date', type: 'date' },
  ];
  const jira: ScriptHost = { platform: 'JIRA_CLOUD', itemTypes: ['Task'], fields };
  const here: ScriptItem = { ...local, customFields: { customfield_10010: 'Acme', customfield_10011: 5 } };
  const partner = {
    ...replica,
    customFields: {
      Customer: { id: 'Custom.Customer', name: 'Customer', type: 'string', value: 'Globex' },
      Effort: { id: 'Custom.Effort', name: 'Effort', type: 'double', value: 2.5 },
    },
  } as Replica;
  const run = async (script: string, o: { issue?: ScriptItem; replica?: Replica; host?: ScriptHost; firstSync?: boolean } = {}) =>
    runner.runIncoming(script, { issue: o.issue ?? here, replica: o.replica ?? partner, previous: null, firstSync: o.firstSync ?? false }, o.host ?? jira);
  const value = async (script: string, o: Parameters<typeof run>[1] = {}) => {
    const out = await run(script, o);
    if (!out.ok) throw new Error(out.error.message);
    return out.value;
  };

  it('are { id, name, type, value } by name, also by id (customfield_10010 and 10010), every listed field even without a value', async () => {
    const got = await value(
      [
        `var c = issue.customFields['Customer'];`,
        `issue.labels = [c.id, c.name, c.type, c.value, String(issue.customFields['Story Points'].value), String(issue.customFields['Target Date'].value),`,
        `  String(issue.customFields.customfield_10010 === c), String(issue.customFields['10010'] === c), Object.keys(issue.customFields).join('|')];`,
      ].join('\n'),
    );
    expect(got.labels).toEqual(['customfield_10010', 'Customer', 'string', 'Acme', '5', 'null', 'true', 'true', 'Customer|Story Points|Target Date']);
  });

  it("the docs' incoming pattern sets the local field from the partner's, by name; the engine gets values by id", async () => {
    const got = await value(`issue.customFields."Customer".value = replica.customFields."Customer".value;`.replace(/\."([^"]+)"/g, "['$1']"));
    // Only the fields the rule changed: those it left alone are never written.
    expect(got.customFields).toEqual({ customfield_10010: 'Globex' });
    // Assigning the partner's whole field object takes its value; so does a bare value under an id.
    expect((await value(`issue.customFields['Customer'] = replica.customFields['Customer'];`)).customFields).toMatchObject({ customfield_10010: 'Globex' });
    expect((await value(`issue.customFields['10011'] = replica.customFields['Effort'].value * 4;`)).customFields).toMatchObject({ customfield_10011: 10 });
    expect((await value(`issue.customFields['customfield_10011'] = 8;`)).customFields).toEqual({ customfield_10011: 8 });
    expect((await value(`issue.customFields.customfield_10011.value = 13;`)).customFields).toMatchObject({ customfield_10011: 13 });
  });

  it('on a new item every listed field is there to be set', async () => {
    const got = await value(`issue.typeName = 'Task';\nissue.customFields['Target Date'].value = '2026-12-24';`, {
      issue: { project: 'SUP' },
      firstSync: true,
    });
    expect(got.customFields).toEqual({ customfield_10012: '2026-12-24' });
  });

  it('the outgoing rule sends field objects by name, as Exalate replicas carry them', async () => {
    const out = await runner.runOutgoing(
      `replica.key = issue.key;\nreplica.customFields['Customer'] = issue.customFields['Customer'];\nreplica.customFields.all = Object.keys(issue.customFields).length;`,
      { issue: here, previous: null, firstSync: true },
      jira,
    );
    expect(out).toMatchObject({
      ok: true,
      value: { customFields: { Customer: { id: 'customfield_10010', name: 'Customer', type: 'string', value: 'Acme' }, all: 3 } },
    });
  });

  it('a name the tracker does not have is refused with the names it has', async () => {
    const out = await run(`issue.customFields['Effort'] = replica.customFields['Effort'];`);
    expect(out).toMatchObject({
      ok: false,
      error: {
        code: 'SCRIPT_RESULT_INVALID',
        message: 'issue.customFields["Effort"]: this tracker has no field of that name (its fields: Customer, Story Points, Target Date)',
      },
    });
    // A tracker that did not list its fields takes what the rule gives, by id.
    expect((await value(`issue.customFields['customfield_10099'] = 'x';`, { host: { platform: 'JIRA_CLOUD', itemTypes: [] } })).customFields).toEqual({
      customfield_10099: 'x',
    });
  });

  it("Azure DevOps: a field by display name, by reference name, and as the work item's own property are one field", async () => {
    const ado: ScriptHost = {
      platform: 'AZURE_DEVOPS',
      itemTypes: ['Bug'],
      fields: [
        { id: 'System.AreaPath', name: 'Area Path', type: 'treePath' },
        { id: 'Custom.Customer', name: 'Customer', type: 'string' },
      ],
    };
    const workItem: ScriptItem = { key: '7', project: 'Fabrikam', type: 'Bug', customFields: { 'System.AreaPath': 'Fabrikam', 'Custom.Customer': 'Acme' } };
    const got = await value(
      `workItem.labels = [workItem.customFields['Area Path'].value, workItem['Custom.Customer'], workItem.areaPath];\nworkItem['Custom.Customer'] = replica.customFields.Customer.value;`,
      { issue: workItem, host: ado },
    );
    expect(got).toMatchObject({ labels: ['Fabrikam', 'Acme', 'Fabrikam'], customFields: { 'Custom.Customer': 'Globex' } });
  });
});

describe("ServiceNow's columns", () => {
  const record: ScriptItem = {
    key: 'INC0010001',
    id: '9d385017c611228701d22104cc95c371',
    project: 'incident',
    type: 'incident',
    summary: 'Printer on fire',
    status: 'New',
    priority: '3',
    customFields: { category: 'hardware', urgency: '2', u_customer: 'Acme' },
  };
  const snow = async (script: string, issue: ScriptItem = record, firstSync = false) => {
    const out = await runner.runIncoming(script, { issue, replica, previous: null, firstSync }, host('SERVICENOW', ['incident']));
    if (!out.ok) throw new Error(out.error.message);
    return out.value;
  };

  it('every column reads as a property, the table as entity.tableName and entityType, the record also as the variable named after its table', async () => {
    const value = await snow(
      `entity.labels = [entity.number, entity.sys_id, entity.short_description, entity.state, entity.tableName, entityType, entity.category, entity.urgency, entity.u_customer, String(incident === entity), typeof problem];`,
    );
    expect(value.labels).toEqual([
      'INC0010001',
      '9d385017c611228701d22104cc95c371',
      'Printer on fire',
      'New',
      'incident',
      'incident',
      'hardware',
      '2',
      'Acme',
      'true',
      'undefined',
    ]);
  });

  it('what the rule sets under a column goes where it belongs; the model’s own fields stay the model’s', async () => {
    const value = await snow(
      `incident.short_description = replica.summary;\nentity.state = 'In Progress';\nentity.category = 'network';\nentity.close_notes = 'Replaced';`,
    );
    expect(value).toMatchObject({
      summary: 'From the partner',
      status: 'In Progress',
      customFields: { category: 'network', close_notes: 'Replaced' },
    });
    expect(Object.keys(value).filter((k) => ['short_description', 'state', 'category', 'number', 'tableName'].includes(k))).toEqual([]);
  });

  it("on a first sync, Exalate's entity.tableName = 'incident' makes the record in that table", async () => {
    const value = await snow(`if (firstSync) entity.tableName = 'incident';\nentity.short_description = replica.summary;`, { project: 'incident' }, true);
    expect(value).toMatchObject({ type: 'incident', project: 'incident', summary: 'From the partner' });
  });
});

describe("Jira's planning fields", () => {
  it('issue.duedate, components, fixVersions and resolution read and write as Exalate’s do', async () => {
    const issue: ScriptItem = {
      ...local,
      customFields: { duedate: '2026-12-24', components: [{ name: 'Web' }], fixVersions: [], resolution: null },
    };
    const partner = { ...replica, duedate: '2027-01-15', components: [{ name: 'API' }], fixVersions: [{ name: '2.0' }], resolution: 'Done' } as Replica;
    const out = await runner.runIncoming(
      [
        `issue.labels = [issue.duedate, issue.components.map(function (c) { return c.name; }).join(','), String(issue.resolution)];`,
        `issue.duedate = replica.duedate;`,
        `issue.components = replica.components;`,
        `issue.fixVersions = replica.fixVersions;`,
        `issue.resolution = replica.resolution.name;`,
      ].join('\n'),
      { issue, replica: partner, previous: null, firstSync: false },
      host('JIRA_SERVER'),
    );
    expect(out).toMatchObject({ ok: true, value: { labels: ['2026-12-24', 'Web', 'null'] } });
    if (!out.ok) return;
    expect(out.value.customFields).toEqual({ duedate: '2027-01-15', components: [{ name: 'API' }], fixVersions: [{ name: '2.0' }], resolution: 'Done' });
    expect(Object.keys(out.value).filter((k) => ['duedate', 'components', 'fixVersions', 'resolution'].includes(k))).toEqual([]);
  });
});
