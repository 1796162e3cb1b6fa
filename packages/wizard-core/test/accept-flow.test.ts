import { randomUUID } from 'node:crypto';
import { encodeInvitationCode } from '@exalate/contract';
import { AcceptFlow, CONGRATULATIONS } from '../src/index.js';
import { connection, err, fakeApi, ok, preview } from './fake-api.js';

const code = encodeInvitationCode({
  connectionId: randomUUID(),
  secret: 'C'.repeat(43),
  name: 'jira_to_ado',
  description: '',
  mode: 'SCRIPT',
  initiator: {
    shortName: 'jira',
    project: 'SUP',
    node: {
      product: 'exalate',
      nodeType: 'JIRA_CLOUD',
      instanceId: randomUUID(),
      trackerUrl: 'https://acme.atlassian.net',
      nodeUrl: 'https://x.example.com/nodes/jira',
      protocol: { min: 1, max: 1 },
      modes: ['SCRIPT'],
      pollOnly: false,
      version: '0.1.0',
    },
  },
  destination: { shortName: 'ado', url: null },
  createdAt: new Date().toISOString(),
  expiresAt: new Date(Date.now() + 3_600_000).toISOString(),
});
const projects = ok({ projects: [{ key: 'DEV', name: 'Development' }] });

describe('AcceptFlow', () => {
  it('walks code → project (with the preview above it) → Confirm → established, then Configure Sync', async () => {
    const { api, calls } = fakeApi({
      previewInvitation: () => ok(preview()),
      listProjects: () => projects,
      acceptInvitation: () => ok({ connection: connection({ status: 'ACTIVE', role: 'ACCEPTOR', pendingStep: null }) }),
    });
    const configured: string[] = [];
    const flow = new AcceptFlow(api, { onConfigure: (id) => configured.push(id) });
    expect(flow.stepTitle).toBe('Please paste the invitation code, received from your partner');
    flow.setCode(`  ${code.slice(0, 50)}\n${code.slice(50)}  `);
    await flow.next();
    // The preview and the project on one step; the only project is preselected.
    expect(flow.getState()).toMatchObject({ step: 'project', preview: { connectionName: 'jira_to_ado' }, name: 'jira_to_ado', project: 'DEV' });
    expect(flow.stepTitle).toBe('Select a project for the incoming sync');
    expect(flow.connectionName).toBe('jira_to_ado');
    await flow.next();
    expect(flow.getState()).toMatchObject({ step: 'established', connection: { status: 'ACTIVE' } });
    expect(CONGRATULATIONS).toBe('Congratulations! Connection is established.');
    expect(calls.find((c) => c.method === 'acceptInvitation')!.args[0]).toEqual({ code: expect.any(String), project: 'DEV' });
    flow.configureSync();
    expect(configured).toEqual([connection().id]);
  });

  it('with a fixed place for incoming items (ServiceNow), Next accepts at once: paste → Next → Congratulations', async () => {
    const { api, calls } = fakeApi({
      previewInvitation: () => ok(preview()),
      acceptInvitation: () => ok({ connection: connection({ status: 'ACTIVE', role: 'ACCEPTOR', pendingStep: null, project: 'incident' }) }),
    });
    const flow = new AcceptFlow(api, { incomingProject: 'incident' });
    expect(flow.asksForProject).toBe(false);
    flow.setCode(code);
    await flow.next();
    expect(flow.getState()).toMatchObject({ step: 'established', connection: { status: 'ACTIVE' } });
    expect(calls.map((c) => c.method)).toEqual(['previewInvitation', 'acceptInvitation']);
    expect(calls[1]!.args[0]).toEqual({ code: expect.any(String), project: 'incident' });
  });

  it('with a fixed place for incoming items, a taken name stops on a step that asks for the name alone', async () => {
    const { api, calls } = fakeApi({
      previewInvitation: () => ok(preview({ nameTaken: true })),
      acceptInvitation: () => ok({ connection: connection({ status: 'ACTIVE', role: 'ACCEPTOR', pendingStep: null }) }),
    });
    const flow = new AcceptFlow(api, { incomingProject: 'incident' });
    flow.setCode(code);
    await flow.next();
    expect(flow.getState()).toMatchObject({ step: 'project', name: '' });
    expect(flow.stepTitle).toBe('Choose another name for the connection');
    flow.setName('jira_to_snow_2');
    await flow.next();
    expect(flow.getState().step).toBe('established');
    expect(calls.find((c) => c.method === 'acceptInvitation')!.args[0]).toEqual({ code: expect.any(String), project: 'incident', name: 'jira_to_snow_2' });
    expect(calls.some((c) => c.method === 'listProjects')).toBe(false);
  });

  it('reports a damaged code at once, without calling the backend', async () => {
    const { api, calls } = fakeApi({});
    const flow = new AcceptFlow(api);
    flow.setCode(code.slice(0, -30));
    await flow.next();
    // Said once, under the field, with its code.
    expect(flow.getState()).toMatchObject({ step: 'code', banner: null, errors: { code: expect.stringMatching(/incomplete.*\(INVITATION_CODE_DAMAGED\)$/) } });
    expect(calls).toHaveLength(0);
  });

  it("shows the backend's verdict on a code (e.g. addressed to another node)", async () => {
    const { api } = fakeApi({
      previewInvitation: () => err({ code: 'INVITATION_NOT_FOR_THIS_NODE', message: 'This invitation was created for another node.' }),
    });
    const flow = new AcceptFlow(api);
    flow.setCode(code);
    await flow.next();
    expect(flow.getState()).toMatchObject({
      step: 'code',
      banner: null,
      errors: { code: 'This invitation was created for another node. (INVITATION_NOT_FOR_THIS_NODE)' },
    });
  });

  it("asks for another name when the invitation's name is taken here", async () => {
    const { api, calls } = fakeApi({
      previewInvitation: () => ok(preview({ nameTaken: true })),
      listProjects: () => projects,
      acceptInvitation: () => ok({ connection: connection({ status: 'ACTIVE' }) }),
    });
    const flow = new AcceptFlow(api);
    flow.setCode(code);
    await flow.next();
    await flow.next();
    expect(flow.getState()).toMatchObject({ step: 'project', errors: { name: expect.any(String) } });
    flow.setName('jira_to_ado');
    await flow.next();
    expect(flow.getState().errors.name).toMatch(/already used/);
    flow.setName('jira_to_ado_2');
    expect(flow.connectionName).toBe('jira_to_ado_2');
    await flow.next();
    expect((calls.find((c) => c.method === 'acceptInvitation')!.args[0] as { name: string }).name).toBe('jira_to_ado_2');
  });

  it('ends in "awaiting initiator" when the initiating node is private', async () => {
    const { api } = fakeApi({
      previewInvitation: () => ok(preview({ initiator: { ...preview().initiator, private: true, nodeUrl: null } })),
      listProjects: () => projects,
      acceptInvitation: () => ok({ connection: connection({ status: 'PENDING', pendingStep: 'AWAITING_INITIATOR', role: 'ACCEPTOR' }) }),
    });
    const flow = new AcceptFlow(api);
    flow.setCode(code);
    for (let i = 0; i < 2; i++) await flow.next();
    expect(flow.getState().step).toBe('awaiting-initiator');
  });

  it('goes back to the code step when the initiator refuses the code on Confirm, and Previous works before', async () => {
    const { api } = fakeApi({
      previewInvitation: () => ok(preview()),
      listProjects: () => projects,
      acceptInvitation: () => err({ code: 'INVITATION_ALREADY_USED', message: 'This invitation has already been accepted.' }),
    });
    const flow = new AcceptFlow(api);
    flow.setCode(code);
    await flow.next();
    flow.back();
    expect(flow.getState().step).toBe('code');
    await flow.next();
    await flow.next();
    expect(flow.getState()).toMatchObject({
      step: 'code',
      banner: null,
      errors: { code: 'This invitation has already been accepted. (INVITATION_ALREADY_USED)' },
    });
  });

  it('keeps the admin on the project step when the name was taken meanwhile, and asks for another', async () => {
    const { api } = fakeApi({
      previewInvitation: () => ok(preview()),
      listProjects: () => projects,
      acceptInvitation: () =>
        err({ code: 'CONNECTION_NAME_TAKEN', message: 'A connection named "jira_to_ado" already exists here.', fields: { name: 'Already used here.' } }),
    });
    const flow = new AcceptFlow(api);
    flow.setCode(code);
    await flow.next();
    await flow.next();
    expect(flow.getState()).toMatchObject({
      step: 'project',
      preview: { nameTaken: true },
      name: '',
      errors: { name: 'Already used here.' },
      banner: { code: 'CONNECTION_NAME_TAKEN' },
    });
  });
});
