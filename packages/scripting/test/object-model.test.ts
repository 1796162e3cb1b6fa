import type { NodeType, Replica } from '@exalate/contract';
import { ScriptRunner, type ScriptHost, type ScriptItem } from '@exalate/scripting';

// The object model of Exalate's scripts as our rules see it: named values with `.name`/`.key`
// that are still strings, `typeName`/`projectKey`, `setStatus`, and maps that always exist.

const host = (platform: NodeType = 'JIRA_CLOUD', itemTypes = ['Bug', 'Task', 'Story']): ScriptHost => ({ platform, itemTypes });
const replica: Replica = { key: 'ADO-7', summary: 'From the partner', type: 'Bug', status: 'Active', priority: '2', project: 'Fabrikam' } as Replica;
const local: ScriptItem = { key: 'SUP-3', project: 'SUP', type: 'Story', status: 'To Do', priority: 'High', summary: 'Here', labels: [], customFields: {} };

let runner: ScriptRunner;
beforeAll(async () => {
  runner = await ScriptRunner.create({ timeoutMs: 500, memoryBytes: 8 * 1024 * 1024 });
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
