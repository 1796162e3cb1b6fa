import { AcceptFlow, AdminApiClient, ConnectionList, InitiateFlow } from '@exalate/wizard-core';
import { nodeConfig, startTestServer, type TestServer } from './support.js';

/** The wizard core drives the real admin API, as the three frontends will. */
let t: TestServer;
beforeAll(async () => {
  t = await startTestServer('pglite', [nodeConfig('jira'), nodeConfig('ado', { nodeType: 'AZURE_DEVOPS' })]);
});

const client = (id: string) => new AdminApiClient({ nodeUrl: t.url(id), authorization: () => `Bearer ${t.token(id)}` });

it('initiates on one node and accepts on the other through the flows; both lists show Active', async () => {
  const jira = client('jira');
  const info = await jira.nodeInfo();
  if (!info.ok) throw new Error(info.error.message);

  let copied = '';
  const initiate = new InitiateFlow(jira, info.value, { clipboard: { writeText: async (text) => void (copied = text) } });
  initiate.setField('destinationUrl', t.url('ado'));
  await initiate.next();
  expect(initiate.getState()).toMatchObject({ step: 'details', destination: { nodeType: 'AZURE_DEVOPS' } });
  initiate.setField('localShortName', 'jira');
  initiate.setField('remoteShortName', 'ado');
  initiate.setField('description', 'Escalations');
  await initiate.next();
  initiate.setField('project', 'SUP');
  await initiate.next();
  expect(initiate.getState().step).toBe('invitation');
  await initiate.copyInvitationCode();

  const accept = new AcceptFlow(client('ado'));
  accept.setCode(copied);
  await accept.next();
  expect(accept.getState().preview).toMatchObject({ connectionName: 'jira_to_ado', localShortName: 'ado', mode: 'SCRIPT' });
  // The organization has two projects: no default, the admin picks one.
  expect(accept.getState()).toMatchObject({ step: 'project', project: '' });
  accept.setProject('DEV');
  await accept.next();
  expect(accept.getState()).toMatchObject({ step: 'established', connection: { status: 'ACTIVE' } });

  for (const id of ['jira', 'ado']) {
    const list = new ConnectionList(client(id));
    await list.load();
    expect(list.getState().rows).toEqual([expect.objectContaining({ name: 'jira_to_ado', statusLabel: 'Active', mode: 'Script' })]);
  }
});

it('reports backend errors as values with their stable code', async () => {
  const flow = new AcceptFlow(client('ado'));
  const initiated = await client('jira').initiateConnection({
    destinationUrl: null,
    mode: 'BASIC',
    localShortName: 'jira',
    remoteShortName: 'x',
    project: 'SUP',
    name: 'own-code',
  });
  if (!initiated.ok) throw new Error(initiated.error.message);
  await client('jira').revokeInvitation(initiated.value.connection.id);
  flow.setCode(initiated.value.invitationCode);
  await flow.next();
  flow.setProject('SUP');
  await flow.next();
  expect(flow.getState()).toMatchObject({ step: 'code', errors: { code: expect.stringMatching(/\(INVITATION_REVOKED\)$/) } });

  const wrongToken = new AdminApiClient({ nodeUrl: t.url('ado'), authorization: () => 'Bearer wrong' });
  expect(await wrongToken.listConnections()).toMatchObject({ ok: false, error: { code: 'UNAUTHENTICATED', status: 401 } });
  const nowhere = new AdminApiClient({ nodeUrl: 'http://127.0.0.1:1/nodes/x' });
  expect(await nowhere.listConnections()).toMatchObject({ ok: false, error: { code: 'NETWORK_ERROR' } });
});
