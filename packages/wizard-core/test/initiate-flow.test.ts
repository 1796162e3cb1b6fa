import { InitiateFlow, type Clipboard } from '../src/index.js';
import { connection, err, fakeApi, ok, probe } from './fake-api.js';

const local = { modes: ['BASIC', 'VISUAL', 'SCRIPT'] as const, pollOnly: false };
const projects = ok({ projects: [{ key: 'SUP', name: 'Support' }, { key: 'DEV', name: 'Development' }] });

function clipboard(): Clipboard & { text: string | null } {
  const c = { text: null as string | null, writeText: async (t: string) => void (c.text = t) };
  return c;
}

async function fillDetails(flow: InitiateFlow) {
  flow.setField('localShortName', 'jira');
  flow.setField('remoteShortName', 'ado');
  await flow.next();
}

describe('InitiateFlow', () => {
  it('walks destination → mode → details → project → invitation with a public partner', async () => {
    const { api, calls } = fakeApi({
      probeDestination: () => ok(probe),
      listProjects: () => projects,
      initiateConnection: () => ok({ connection: connection(), invitationCode: 'CODE' }),
    });
    const clip = clipboard();
    const flow = new InitiateFlow(api, { ...local, modes: [...local.modes] }, clip);
    const seen: string[] = [];
    flow.subscribe((s) => seen.push(s.step));

    flow.setField('destinationUrl', 'https://partner.example.com/nodes/ado/');
    await flow.next();
    expect(flow.getState()).toMatchObject({ step: 'mode', modeOptions: ['BASIC', 'SCRIPT'], values: { mode: 'SCRIPT', destinationUrl: probe.url } });

    flow.setField('mode', 'BASIC');
    await flow.next();
    expect(flow.getState().step).toBe('details');

    await fillDetails(flow);
    expect(flow.getState().values.name).toBe('jira_to_ado');
    expect(flow.getState()).toMatchObject({ step: 'project', projects: expect.any(Array) });

    flow.setField('project', 'DEV');
    await flow.next();
    expect(flow.getState()).toMatchObject({ step: 'invitation', result: { invitationCode: 'CODE' } });
    expect(calls.find((c) => c.method === 'initiateConnection')!.args[0]).toEqual({
      destinationUrl: probe.url,
      mode: 'BASIC',
      localShortName: 'jira',
      remoteShortName: 'ado',
      name: 'jira_to_ado',
      description: '',
      project: 'DEV',
    });
    expect(flow.canGoBack()).toBe(false);

    expect(await flow.copyInvitationCode()).toBe(true);
    expect(clip.text).toBe('CODE');
    expect(flow.getState().copied).toBe(true);
    await flow.next();
    expect(flow.getState().finished).toBe(true);
    expect(seen).toContain('mode');
  });

  it('"I don\'t have a URL" skips the probe and offers this node\'s modes', async () => {
    const { api, calls } = fakeApi({ listProjects: () => projects, initiateConnection: () => ok({ connection: connection(), invitationCode: 'C' }) });
    const flow = new InitiateFlow(api, { modes: ['BASIC', 'VISUAL', 'SCRIPT'], pollOnly: false });
    flow.setField('noUrl', true);
    await flow.next();
    expect(flow.getState()).toMatchObject({ step: 'mode', modeOptions: ['BASIC', 'VISUAL', 'SCRIPT'], destination: null });
    expect(calls.map((c) => c.method)).not.toContain('probeDestination');
    await flow.next();
    await fillDetails(flow);
    flow.setField('project', 'SUP');
    await flow.next();
    expect((calls.at(-1)!.args[0] as { destinationUrl: unknown }).destinationUrl).toBeNull();
  });

  it('a private node must enter a URL', async () => {
    const { api } = fakeApi({});
    const flow = new InitiateFlow(api, { modes: ['SCRIPT'], pollOnly: true });
    flow.setField('noUrl', true);
    await flow.next();
    expect(flow.getState()).toMatchObject({ step: 'destination', errors: { destinationUrl: expect.stringMatching(/private/) } });
  });

  it('validates the URL locally before asking the backend', async () => {
    const { api, calls } = fakeApi({});
    const flow = new InitiateFlow(api, { modes: ['SCRIPT'], pollOnly: false });
    await flow.next();
    expect(flow.getState().errors.destinationUrl).toMatch(/Enter the partner node/);
    flow.setField('destinationUrl', 'partner dot com');
    await flow.next();
    expect(flow.getState().errors.destinationUrl).toMatch(/not a URL/);
    expect(calls).toHaveLength(0);
  });

  it('shows the backend\'s probe failure with its code and stays on the step', async () => {
    const { api } = fakeApi({
      probeDestination: () => err({ code: 'DESTINATION_UNREACHABLE', message: 'Could not reach it. Choose "I don\'t have a URL".', fields: { destinationUrl: 'Unreachable.' } }),
    });
    const flow = new InitiateFlow(api, { modes: ['SCRIPT'], pollOnly: false });
    flow.setField('destinationUrl', 'https://gone.example.com');
    await flow.next();
    expect(flow.getState()).toMatchObject({ step: 'destination', busy: false, banner: { code: 'DESTINATION_UNREACHABLE' }, errors: { destinationUrl: expect.stringMatching(/Could not reach/) } });
    flow.setField('destinationUrl', 'https://other.example.com');
    expect(flow.getState().banner).toBeNull();
  });

  it('validates short names and keeps a typed connection name', async () => {
    const { api } = fakeApi({ listProjects: () => projects });
    const flow = new InitiateFlow(api, { modes: ['SCRIPT'], pollOnly: false });
    flow.setField('noUrl', true);
    await flow.next();
    await flow.next();
    flow.setField('localShortName', 'my jira');
    await flow.next();
    expect(flow.getState()).toMatchObject({ step: 'details', errors: { localShortName: expect.stringMatching(/spaces/), remoteShortName: expect.stringMatching(/required/) } });
    flow.setField('localShortName', 'jira');
    flow.setField('name', 'Escalations');
    flow.setField('remoteShortName', 'ado');
    expect(flow.getState().values.name).toBe('Escalations');
    flow.back();
    expect(flow.getState().step).toBe('mode');
  });

  it('sends the admin back to the step of a field the backend refused', async () => {
    const { api } = fakeApi({
      listProjects: () => projects,
      initiateConnection: () => err({ code: 'CONNECTION_NAME_TAKEN', message: 'A connection named "jira_to_ado" already exists.', fields: { name: 'Already used.' } }),
    });
    const flow = new InitiateFlow(api, { modes: ['SCRIPT'], pollOnly: false });
    flow.setField('noUrl', true);
    await flow.next();
    await flow.next();
    await fillDetails(flow);
    flow.setField('project', 'SUP');
    await flow.next();
    expect(flow.getState()).toMatchObject({ step: 'details', errors: { name: 'Already used.' }, banner: { code: 'CONNECTION_NAME_TAKEN' } });
  });

  it('requires a project', async () => {
    const { api } = fakeApi({ listProjects: () => projects });
    const flow = new InitiateFlow(api, { modes: ['SCRIPT'], pollOnly: false });
    flow.setField('noUrl', true);
    await flow.next();
    await flow.next();
    await fillDetails(flow);
    await flow.next();
    expect(flow.getState()).toMatchObject({ step: 'project', errors: { project: expect.stringMatching(/Choose the project/) } });
  });
});
