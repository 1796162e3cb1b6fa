import { defaultRules } from '@exalate/scripting';
import { eventually } from './support.js';
import { pairPerTest, plain } from './sync-support.js';

/**
 * Published Exalate script patterns, translated from Groovy by syntax alone (`def` → `var`,
 * closures → functions, map literals → objects), through the real engine between simulated
 * trackers: each item arrives as Exalate would make it.
 */

const pair = pairPerTest();

it("the docs' status map moves the work item through its states (Jira → Azure DevOps)", async () => {
  const p = await pair('pglite', 'jira', 'ado');
  // def statusMap = ["To Do": "New", "In Progress": "Active", "Done": "Closed"]
  // def remoteStatusName = replica.status.name
  // workItem.setStatus(statusMap[remoteStatusName] ?: remoteStatusName)
  const incoming = `${defaultRules('AZURE_DEVOPS').incoming}
var statusMap = { "To Do": "New", "In Progress": "Active", "Done": "Closed" };
var remoteStatusName = replica.status.name;
workItem.setStatus(statusMap[remoteStatusName] || remoteStatusName);
`;
  expect((await p.api('b').put(`/connections/${p.connectionId}/rules`, { incoming })).status).toBe(200);
  const made = await p.a.human.createItem({ project: 'SUP', type: 'Bug', summary: 'Mapped status' });
  const twin = await p.twinOf('a', made.key);
  await eventually(async () => expect((await p.b.reader.getItem(twin))!.status).toBe('New'), 20_000);
  await p.a.human.updateItem(made.key, { status: 'In Progress' });
  await eventually(async () => expect((await p.b.reader.getItem(twin))!.status).toBe('Active'), 20_000);
  await p.a.human.updateItem(made.key, { status: 'Done' });
  await eventually(async () => expect((await p.b.reader.getItem(twin))!.status).toBe('Closed'), 20_000);
}, 90_000);

it('a top-level return skips an item; an IssueTrackerException quarantines it with the script’s message', async () => {
  const p = await pair('pglite', 'jira', 'ado');
  const incoming = `if (replica.summary.indexOf('[internal]') >= 0) return;
if (replica.summary.indexOf('[refuse]') >= 0) {
  throw new com.exalate.api.exception.IssueTrackerException("Items marked [refuse] are not synced to " + syncHelper.getTrackerUrl().length + " (yet)");
}
${defaultRules('AZURE_DEVOPS').incoming}`;
  expect((await p.api('b').put(`/connections/${p.connectionId}/rules`, { incoming })).status).toBe(200);
  const refused = await p.a.human.createItem({ project: 'SUP', type: 'Bug', summary: '[refuse] not for them' });
  const fine = await p.a.human.createItem({ project: 'SUP', type: 'Bug', summary: 'For them', description: { format: 'adf', value: adf('Read me') } });
  const twin = await p.twinOf('a', fine.key);
  expect(plain((await p.b.reader.getItem(twin))!.description)).toBe('Read me');
  // Renamed into the skipped kind: the rule returns before it changes anything.
  await p.a.human.updateItem(fine.key, { summary: 'For them [internal] from now on' });
  await p.a.settled();
  await new Promise((r) => setTimeout(r, 2_000));
  expect((await p.b.reader.getItem(twin))!.summary).toBe('For them');
  expect((await p.api('b').get(`/connections/${p.connectionId}/items/${twin}`)).body).toMatchObject({ status: 'SYNCED', error: null });
  await eventually(async () => {
    const item = (await p.api('b').get(`/connections/${p.connectionId}/items/${refused.key}`)).body;
    expect(item).toMatchObject({
      status: 'FAILED',
      error: {
        code: 'SCRIPT_ERROR',
        line: 3,
        message: expect.stringMatching(/^The incoming rule stopped this item at line 3, column \d+: Items marked \[refuse\] are not synced to \d+ \(yet\)$/),
      },
    });
  }, 20_000);
}, 90_000);

it("an author prefix by mergeComments' closure, and the partner's HTML converted to Jira's format", async () => {
  const p = await pair('pglite', 'ado', 'jira-dc');
  const incoming = defaultRules('JIRA_SERVER').incoming.replace(
    'commentHelper.mergeComments(issue, replica)',
    `commentHelper.mergeComments(issue, replica, function (comment) {
  comment.body = "[" + comment.author.displayName + "] commented: " + comment.body;
})`,
  );
  expect(incoming).toContain('commented: ');
  expect((await p.api('b').put(`/connections/${p.connectionId}/rules`, { incoming })).status).toBe(200);
  const made = await p.a.human.createItem({ project: p.a.project, type: p.a.itemType, summary: 'With a comment' });
  await p.a.human.addComment(made.key, { format: 'html', value: '<p>Please look at <b>this</b></p>' });
  const twin = await p.twinOf('a', made.key);
  await eventually(async () => {
    const comments = (await p.b.reader.getItem(twin))!.comments;
    expect(comments.map((c) => c.body)).toEqual([{ format: 'jira-wiki', value: expect.stringMatching(/^\[.+\] commented:\s+Please look at \*this\*$/) }]);
  }, 20_000);
}, 90_000);

it("Azure DevOps' area path and a field by reference name, set on the create and on an update", async () => {
  const p = await pair('pglite', 'jira', 'ado');
  // workItem.areaPath = workItem.projectKey + "\\Support"
  // workItem."Microsoft.VSTS.Common.Severity" = replica.priority?.name == "High" ? "2 - High" : "3 - Medium"
  const incoming = `${defaultRules('AZURE_DEVOPS').incoming}
if (firstSync) workItem.areaPath = workItem.projectKey + "\\\\Support";
workItem["Microsoft.VSTS.Common.Severity"] = replica.priority?.name == "High" ? "2 - High" : "3 - Medium";
`;
  expect((await p.api('b').put(`/connections/${p.connectionId}/rules`, { incoming })).status).toBe(200);
  const made = await p.a.human.createItem({ project: 'SUP', type: 'Bug', summary: 'Placed', priority: 'Medium' });
  const twin = await p.twinOf('a', made.key);
  await eventually(async () => {
    const item = (await p.b.reader.getItem(twin))!;
    expect(item.customFields).toMatchObject({ 'System.AreaPath': `${p.b.project}\\Support`, 'Microsoft.VSTS.Common.Severity': '3 - Medium' });
  }, 20_000);
  await p.a.human.updateItem(made.key, { priority: 'High' });
  await eventually(async () => expect((await p.b.reader.getItem(twin))!.customFields['Microsoft.VSTS.Common.Severity']).toBe('2 - High'), 20_000);
  expect((await p.b.reader.getItem(twin))!.customFields['System.AreaPath']).toBe(`${p.b.project}\\Support`);
}, 90_000);

it('syncHelper.syncBackAfterProcessing sends what the incoming rule changed back, once', async () => {
  const p = await pair('pglite', 'jira', 'ado');
  const incoming = `${defaultRules('AZURE_DEVOPS').incoming}
if ((replica.labels || []).indexOf('seen-by-ado') < 0) {
  workItem.labels = (replica.labels || []).concat(['seen-by-ado']);
  syncHelper.syncBackAfterProcessing();
}
`;
  expect((await p.api('b').put(`/connections/${p.connectionId}/rules`, { incoming })).status).toBe(200);
  const made = await p.a.human.createItem({ project: 'SUP', type: 'Bug', summary: 'Marked on the way', labels: ['bug'] });
  const twin = await p.twinOf('a', made.key);
  // Jira's default incoming rule takes the labels the work item sent back.
  await eventually(async () => expect((await p.a.reader.getItem(made.key))!.labels.sort()).toEqual(['bug', 'seen-by-ado']), 20_000);
  expect((await p.b.reader.getItem(twin))!.labels.sort()).toEqual(['bug', 'seen-by-ado']);
  // And it settles: neither side keeps writing.
  await Promise.all([p.a.settled(), p.b.settled()]);
  await new Promise((r) => setTimeout(r, 1_500));
  const versions = async () => [(await p.a.reader.getItem(made.key))!.updated, (await p.b.reader.getItem(twin))!.version];
  const before = await versions();
  await new Promise((r) => setTimeout(r, 2_500));
  expect(await versions()).toEqual(before);
}, 90_000);

it('two incoming rules that both always ask to sync back still settle', async () => {
  const p = await pair('pglite', 'jira', 'ado');
  const back = (platform: 'JIRA_CLOUD' | 'AZURE_DEVOPS') => `${defaultRules(platform).incoming}\nsyncHelper.syncBackAfterProcessing();\n`;
  expect((await p.api('a').put(`/connections/${p.connectionId}/rules`, { incoming: back('JIRA_CLOUD') })).status).toBe(200);
  expect((await p.api('b').put(`/connections/${p.connectionId}/rules`, { incoming: back('AZURE_DEVOPS') })).status).toBe(200);
  const made = await p.a.human.createItem({ project: 'SUP', type: 'Bug', summary: 'Asked back on both sides' });
  const twin = await p.twinOf('a', made.key);
  await p.a.human.updateItem(made.key, { summary: 'Asked back on both sides, renamed' });
  await eventually(async () => expect((await p.b.reader.getItem(twin))!.summary).toBe('Asked back on both sides, renamed'), 20_000);
  const versions = async () => [(await p.a.reader.getItem(made.key))!.updated, (await p.b.reader.getItem(twin))!.version];
  let before = await versions();
  await eventually(async () => {
    await new Promise((r) => setTimeout(r, 2_000));
    const now = await versions();
    const same = JSON.stringify(now) === JSON.stringify(before);
    before = now;
    expect(same).toBe(true);
  }, 30_000);
}, 90_000);

it('a tracker that will not list its priorities fails no sync; nodeHelper.getPriority then finds none', async () => {
  const p = await pair('pglite', 'ado', 'jira');
  p.b.faults.inject({ status: 403, times: 1_000, match: /\/priority(\?|$)/ });
  const incoming = `${defaultRules('JIRA_CLOUD').incoming}\nissue.labels = [String(nodeHelper.getPriority('High'))];\n`;
  expect((await p.api('b').put(`/connections/${p.connectionId}/rules`, { incoming })).status).toBe(200);
  const made = await p.a.human.createItem({ project: p.a.project, type: p.a.itemType, summary: 'Priorities hidden' });
  const twin = await p.twinOf('a', made.key);
  await eventually(async () => expect((await p.b.reader.getItem(twin))!.labels).toEqual(['null']), 20_000);
  expect(p.b.faults.calls.some((c) => /\/priority$/.test(c))).toBe(true);
}, 90_000);

function adf(text: string): Record<string, unknown> {
  return { type: 'doc', version: 1, content: [{ type: 'paragraph', content: [{ type: 'text', text }] }] };
}

it('custom fields by display name, both ways: Jira’s to Azure DevOps’ fields and back (the docs’ pattern)', async () => {
  const p = await pair('pglite', 'jira', 'ado');
  // replica.customFields."Customer" = issue.customFields."Customer"
  const jiraOutgoing = `${defaultRules('JIRA_CLOUD').outgoing}
replica.customFields["Customer"] = issue.customFields["Customer"];
replica.customFields["Story Points"] = issue.customFields["Story Points"];
`;
  // workItem.customFields."Customer".value = replica.customFields."Customer"?.value
  const adoIncoming = `${defaultRules('AZURE_DEVOPS').incoming}
workItem.customFields["Customer"].value = replica.customFields["Customer"]?.value;
workItem.customFields["Effort"].value = replica.customFields["Story Points"]?.value;
`;
  const adoOutgoing = `${defaultRules('AZURE_DEVOPS').outgoing}
replica.customFields.Customer = workItem.customFields.Customer;
`;
  const jiraIncoming = `${defaultRules('JIRA_CLOUD').incoming}
issue.customFields["Customer"].value = replica.customFields["Customer"].value;
`;
  expect((await p.api('a').put(`/connections/${p.connectionId}/rules`, { outgoing: jiraOutgoing, incoming: jiraIncoming })).status).toBe(200);
  expect((await p.api('b').put(`/connections/${p.connectionId}/rules`, { outgoing: adoOutgoing, incoming: adoIncoming })).status).toBe(200);
  const made = await p.a.human.createItem({
    project: 'SUP',
    type: 'Bug',
    summary: 'For a customer',
    customFields: { customfield_10010: 'Acme', customfield_10011: 5 },
  });
  const twin = await p.twinOf('a', made.key);
  await eventually(async () => expect((await p.b.reader.getItem(twin))!.customFields).toMatchObject({ 'Custom.Customer': 'Acme', 'Custom.Effort': 5 }), 20_000);
  await p.b.human.updateItem(twin, { customFields: { 'Custom.Customer': 'Globex' } });
  await eventually(async () => expect((await p.a.reader.getItem(made.key))!.customFields['customfield_10010']).toBe('Globex'), 20_000);
  // Story points were not sent back: the Jira field keeps its value.
  expect((await p.a.reader.getItem(made.key))!.customFields['customfield_10011']).toBe(5);
}, 90_000);

it('a ServiceNow column by its label, from an Azure DevOps field (private side), and a name the tracker lacks stops the item', async () => {
  const p = await pair('pglite', 'ado', 'snow', { privateB: true });
  const adoOutgoing = `${defaultRules('AZURE_DEVOPS').outgoing}
replica.customFields.Customer = workItem.customFields.Customer;
`;
  const snowIncoming = `${defaultRules('SERVICENOW').incoming}
if (replica.summary.indexOf('[typo]') >= 0) entity.customFields["Custmer"] = replica.customFields.Customer;
else entity.customFields.Customer.value = replica.customFields.Customer.value;
`;
  expect((await p.api('a').put(`/connections/${p.connectionId}/rules`, { outgoing: adoOutgoing })).status).toBe(200);
  expect((await p.api('b').put(`/connections/${p.connectionId}/rules`, { incoming: snowIncoming })).status).toBe(200);
  const made = await p.a.human.createItem({
    project: p.a.project,
    type: p.a.itemType,
    summary: 'Customer call',
    customFields: { 'Custom.Customer': 'Initech' },
  });
  const twin = await p.twinOf('a', made.key);
  await eventually(async () => expect((await p.b.reader.getItem(twin))!.customFields['u_customer']).toBe('Initech'), 20_000);
  const typo = await p.a.human.createItem({ project: p.a.project, type: p.a.itemType, summary: '[typo] call', customFields: { 'Custom.Customer': 'Hooli' } });
  await eventually(async () => {
    const item = (await p.api('b').get(`/connections/${p.connectionId}/items/${typo.key}`)).body;
    expect(item).toMatchObject({
      status: 'FAILED',
      error: {
        code: 'SCRIPT_RESULT_INVALID',
        message: expect.stringContaining('issue.customFields["Custmer"]: this tracker has no field of that name (its fields: Customer, Effort)'),
      },
    });
  }, 20_000);
}, 90_000);

it("a twin lookup and httpClient on the node's own tracker; a call to another host stops the item", async () => {
  const p = await pair('pglite', 'ado', 'jira');
  // def related = syncHelper.getLocalIssueKeyFromRemoteId(replica.labels[0]?.label)
  // def me = httpClient.get("/rest/api/3/myself")
  const incoming = `${defaultRules('JIRA_CLOUD').incoming}
var me = httpClient.get("/rest/api/3/myself");
issue.summary = replica.summary + " (synced by " + me.displayName + ")";
var related = replica.labels.length ? syncHelper.getLocalIssueKeyFromRemoteId(replica.labels[0]) : null;
issue.labels = related ? ["relates-to-" + related.key] : [];
if (replica.summary.indexOf("[outside]") >= 0) httpClient.get("https://example.com/collect?key=" + replica.key);
`;
  expect((await p.api('b').put(`/connections/${p.connectionId}/rules`, { incoming })).status).toBe(200);
  const first = await p.a.human.createItem({ project: p.a.project, type: p.a.itemType, summary: 'First' });
  const firstTwin = await p.twinOf('a', first.key);
  expect((await p.b.reader.getItem(firstTwin))!.summary).toBe('First (synced by Exalate Sync)');
  const second = await p.a.human.createItem({ project: p.a.project, type: p.a.itemType, summary: 'Second', labels: [first.key] });
  const secondTwin = await p.twinOf('a', second.key);
  await eventually(async () => expect((await p.b.reader.getItem(secondTwin))!.labels).toEqual([`relates-to-${firstTwin}`]), 20_000);
  const outside = await p.a.human.createItem({ project: p.a.project, type: p.a.itemType, summary: '[outside] leak' });
  await eventually(async () => {
    const item = (await p.api('b').get(`/connections/${p.connectionId}/items/${outside.key}`)).body;
    expect(item).toMatchObject({
      status: 'FAILED',
      error: {
        code: 'SCRIPT_ERROR',
        line: incoming.split('\n').findIndex((l) => l.includes('[outside]')) + 1,
        message: expect.stringContaining('httpClient.get https://example.com/collect?key='),
      },
    });
    expect(item.error.message).toContain("httpClient takes a path on this node's tracker");
  }, 20_000);
}, 90_000);

it('parent and child: a parent synced on the connection is linked on the other side, and a move is followed (Jira → Azure DevOps)', async () => {
  const p = await pair('pglite', 'jira', 'ado');
  // replica.parentId = issue.parentId
  const outgoing = `${defaultRules('JIRA_CLOUD').outgoing}
replica.parentId = issue.parentId;
`;
  // if (replica.parentId) {
  //   def localParent = syncHelper.getLocalIssueKeyFromRemoteId(replica.parentId)
  //   if (localParent) workItem.parentId = localParent.id
  // }
  const incoming = `${defaultRules('AZURE_DEVOPS').incoming}
if (replica.parentId) {
  var localParent = syncHelper.getLocalIssueKeyFromRemoteId(replica.parentId);
  if (localParent) workItem.parentId = localParent.id;
} else workItem.parentId = null;
`;
  expect((await p.api('a').put(`/connections/${p.connectionId}/rules`, { outgoing })).status).toBe(200);
  expect((await p.api('b').put(`/connections/${p.connectionId}/rules`, { incoming })).status).toBe(200);
  const epic = await p.a.human.createItem({ project: 'SUP', type: 'Epic', summary: 'Checkout' });
  const otherEpic = await p.a.human.createItem({ project: 'SUP', type: 'Epic', summary: 'Payments' });
  const [epicTwin, otherTwin] = [await p.twinOf('a', epic.key), await p.twinOf('a', otherEpic.key)];
  const task = await p.a.human.createItem({ project: 'SUP', type: 'Task', summary: 'Cart page', parent: epic.key });
  const taskTwin = await p.twinOf('a', task.key);
  await eventually(async () => expect((await p.b.reader.getItem(taskTwin))!.parent).toMatchObject({ key: epicTwin }), 20_000);
  await p.a.human.updateItem(task.key, { parent: otherEpic.key });
  await eventually(async () => expect((await p.b.reader.getItem(taskTwin))!.parent).toMatchObject({ key: otherTwin }), 20_000);
  await p.a.human.updateItem(task.key, { parent: null });
  await eventually(async () => expect((await p.b.reader.getItem(taskTwin))!.parent ?? null).toBeNull(), 20_000);
}, 90_000);

it("ServiceNow's default-style scripts: columns by name, entity.tableName on a first sync, the table's own variable (Azure DevOps ↔ ServiceNow, private side)", async () => {
  const p = await pair('pglite', 'ado', 'snow', { privateB: true });
  // As Exalate's ServiceNow incoming script: if (firstSync) entity.tableName = "incident"; if (entity.tableName == "incident") { … }
  const incoming = `if (firstSync) {
  entity.tableName = "incident";
}
if (entity.tableName == "incident") {
  incident.short_description = replica.summary;
  entity.description = replica.description;
  entity.category = replica.type.name == "Bug" ? "software" : "inquiry";
  entity.urgency = replica.priority == "1" ? "1" : "3";
  entity.comments = commentHelper.mergeComments(entity, replica);
}
`;
  // As its outgoing script: replica.summary = entity.short_description; replica.state = entity.state; …
  const outgoing = `replica.key = entity.key;
replica.summary = entity.short_description;
replica.description = entity.description;
replica.state = entity.state;
replica.customKeys.category = entity.category;
replica.comments = entity.comments;
`;
  const adoIncoming = `${defaultRules('AZURE_DEVOPS').incoming}
if (replica.customKeys.category) workItem.labels = ["category-" + replica.customKeys.category, "state-" + replica.state.replace(/ /g, "-")];
`;
  expect((await p.api('b').put(`/connections/${p.connectionId}/rules`, { incoming, outgoing })).status).toBe(200);
  expect((await p.api('a').put(`/connections/${p.connectionId}/rules`, { incoming: adoIncoming })).status).toBe(200);
  const made = await p.a.human.createItem({
    project: p.a.project,
    type: 'Bug',
    summary: 'Login fails',
    priority: '1',
    description: { format: 'html', value: '<p>Since <b>today</b></p>' },
  });
  const twin = await p.twinOf('a', made.key);
  expect(twin).toMatch(/^INC/);
  await eventually(async () => {
    const record = (await p.b.reader.getItem(twin))!;
    expect(record).toMatchObject({ type: 'incident', summary: 'Login fails', customFields: expect.objectContaining({ category: 'software', urgency: '1' }) });
    expect(plain(record.description)).toBe('Since today');
  }, 20_000);
  // Back, once someone works on the record: its columns reach the work item through the replica.
  await p.b.human.updateItem(twin, { status: 'In Progress' });
  await eventually(async () => expect((await p.a.reader.getItem(made.key))!.labels).toEqual(['category-software', 'state-In-Progress']), 20_000);
}, 90_000);

it("Jira's due date, components, fix versions and resolution, by name from one site to another (Jira Cloud → Jira Data Center)", async () => {
  const p = await pair('pglite', 'jira', 'jira-dc');
  // replica.duedate = issue.duedate; replica.components = issue.components; replica.fixVersions = issue.fixVersions; replica.resolution = issue.resolution
  const outgoing = `${defaultRules('JIRA_CLOUD').outgoing}
replica.duedate = issue.duedate;
replica.components = issue.components;
replica.fixVersions = issue.fixVersions;
replica.resolution = issue.resolution;
`;
  // issue.duedate = replica.duedate; issue.components = replica.components; …; the status follows the resolution
  const incoming = `${defaultRules('JIRA_SERVER').incoming}
issue.duedate = replica.duedate;
issue.components = replica.components;
issue.fixVersions = replica.fixVersions;
if (replica.resolution?.name == "Done") issue.setStatus("Done");
`;
  expect((await p.api('a').put(`/connections/${p.connectionId}/rules`, { outgoing })).status).toBe(200);
  expect((await p.api('b').put(`/connections/${p.connectionId}/rules`, { incoming })).status).toBe(200);
  const made = await p.a.human.createItem({
    project: 'SUP',
    type: 'Task',
    summary: 'Planned',
    customFields: { duedate: '2026-12-24', components: [{ name: 'Web' }], fixVersions: [{ name: '2.0' }] },
  });
  const twin = await p.twinOf('a', made.key);
  await eventually(async () => {
    const item = (await p.b.reader.getItem(twin))!;
    expect(item.customFields).toMatchObject({ duedate: '2026-12-24', components: [{ name: 'Web' }], fixVersions: [{ name: '2.0' }], resolution: null });
  }, 20_000);
  await p.a.human.updateItem(made.key, { status: 'Done' });
  await eventually(async () => expect((await p.b.reader.getItem(twin))!).toMatchObject({ status: 'Done', customFields: { resolution: 'Done' } }), 20_000);
}, 90_000);

it('a return on a first sync skips the item: nothing is made until a later change passes the rule', async () => {
  const p = await pair('pglite', 'ado', 'jira');
  const incoming = `if (replica.summary.indexOf("[internal]") >= 0) return;
${defaultRules('JIRA_CLOUD').incoming}`;
  expect((await p.api('b').put(`/connections/${p.connectionId}/rules`, { incoming })).status).toBe(200);
  const internal = await p.a.human.createItem({ project: p.a.project, type: p.a.itemType, summary: '[internal] not for them' });
  const marker = await p.a.human.createItem({ project: p.a.project, type: p.a.itemType, summary: 'For them' });
  await p.twinOf('a', marker.key);
  await p.a.settled();
  await new Promise((r) => setTimeout(r, 2_000));
  // Skipped, not failed: no item on b, nothing quarantined, and only the one issue there.
  expect((await p.api('b').get(`/connections/${p.connectionId}/items/${internal.key}`)).status).toBe(404);
  expect((await p.api('a').get(`/connections/${p.connectionId}/items/${internal.key}`)).body).toMatchObject({ remoteKey: null, error: null });
  const summaries: string[] = [];
  for await (const item of p.b.reader.searchChanged({ query: 'project = SUP', changedAfter: null })) summaries.push(item.summary);
  expect(summaries).toEqual(['For them']);
  // Renamed out of the skipped kind: the next change makes it.
  await p.a.human.updateItem(internal.key, { summary: 'Now for them' });
  const twin = await p.twinOf('a', internal.key);
  expect((await p.b.reader.getItem(twin))!.summary).toBe('Now for them');
}, 90_000);
