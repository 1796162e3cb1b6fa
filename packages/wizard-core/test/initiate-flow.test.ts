import { InitiateFlow, type Clipboard } from '../src/index.js';
import { connection, err, fakeApi, ok, probe } from './fake-api.js';

const local = { modes: ['BASIC', 'VISUAL', 'SCRIPT'] as const, pollOnly: false };
const projects = ok({
  projects: [
    { key: 'SUP', name: 'Support' },
    { key: 'DEV', name: 'Development' },
  ],
});

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
  it('walks destination (with the configuration type) → details → project → invitation with a public partner', async () => {
    const { api, calls } = fakeApi({
      probeDestination: () => ok(probe),
      listProjects: () => projects,
      initiateConnection: () => ok({ connection: connection(), invitationCode: 'CODE' }),
    });
    const clip = clipboard();
    let finished = 0;
    const flow = new InitiateFlow(api, { ...local, modes: [...local.modes] }, { clipboard: clip, onFinished: () => finished++ });
    const seen: string[] = [];
    flow.subscribe((s) => seen.push(s.step));
    // Before the destination is known, this node's modes are offered.
    expect(flow.modeChoices.map((c) => [c.label, c.available])).toEqual([
      ['Basic', true],
      ['Visual', true],
      ['Script', true],
    ]);

    flow.setField('destinationUrl', 'https://partner.example.com/nodes/ado/');
    // Leaving the field asks the destination; its modes narrow the choice on the same screen.
    expect(await flow.checkDestination()).toBe(true);
    expect(flow.getState()).toMatchObject({ step: 'destination', modeOptions: ['BASIC', 'SCRIPT'], values: { mode: 'SCRIPT', destinationUrl: probe.url } });
    expect(flow.modeChoices.find((c) => c.mode === 'VISUAL')).toMatchObject({ available: false, reason: 'The destination node does not offer it.' });

    flow.setField('mode', 'BASIC');
    await flow.next();
    expect(flow.getState().step).toBe('details');
    expect(calls.filter((c) => c.method === 'probeDestination')).toHaveLength(1);
    expect(flow.remoteShortNameLabel).toBe('Remote instance short name');

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
    expect(flow.invitationTexts).toEqual({
      destination: probe.trackerUrl,
      ensureInstalled: `Ensure that Exalate is installed on the destination side "${probe.trackerUrl}"`,
      acceptOnOtherSide: `On the "${probe.trackerUrl}" side, you (or their application administrator) need to Accept the Invitation.`,
      note: null,
    });

    expect(await flow.copyInvitationCode()).toBe(true);
    expect(clip.text).toBe('CODE');
    expect(flow.getState().copied).toBe(true);
    await flow.next();
    expect(flow.getState().finished).toBe(true);
    expect(finished).toBe(1);
    expect(seen).toEqual(expect.arrayContaining(['destination', 'details', 'project', 'invitation']));
  });

  it('Next on the destination asks the destination itself when the admin did not leave the field', async () => {
    const { api, calls } = fakeApi({ probeDestination: () => ok(probe) });
    const flow = new InitiateFlow(api, { ...local, modes: [...local.modes] });
    flow.setField('destinationUrl', 'https://partner.example.com/nodes/ado');
    await flow.next();
    expect(flow.getState()).toMatchObject({ step: 'details', destination: { url: probe.url } });
    expect(calls.map((c) => c.method)).toEqual(['probeDestination']);
  });

  it('a mode the destination does not offer cannot be chosen', async () => {
    const { api } = fakeApi({ probeDestination: () => ok(probe) });
    const flow = new InitiateFlow(api, { ...local, modes: [...local.modes] });
    flow.setField('mode', 'VISUAL');
    flow.setField('destinationUrl', 'https://partner.example.com/nodes/ado');
    await flow.checkDestination();
    // Visual was preselected away, as the destination does not offer it; choosing it again is refused.
    expect(flow.getState().values.mode).toBe('SCRIPT');
    flow.setField('mode', 'VISUAL');
    await flow.next();
    expect(flow.getState()).toMatchObject({ step: 'destination', errors: { mode: 'Choose the configuration type: Basic, Script.' } });
  });

  it('Next while the destination is being asked (the admin left the field by clicking Next) waits for that answer', async () => {
    let release!: () => void;
    const { api, calls } = fakeApi({
      probeDestination: () => new Promise<ReturnType<typeof ok<typeof probe>>>((r) => (release = () => r(ok(probe)))) as never,
    });
    const flow = new InitiateFlow(api, { ...local, modes: [...local.modes] });
    flow.setField('destinationUrl', 'https://partner.example.com/nodes/ado');
    const left = flow.checkDestination();
    const next = flow.next();
    release();
    await Promise.all([left, next]);
    expect(flow.getState().step).toBe('details');
    expect(calls.filter((c) => c.method === 'probeDestination')).toHaveLength(1);
  });

  it('drops the answer about a URL the admin has since changed', async () => {
    let release!: () => void;
    const { api } = fakeApi({ probeDestination: () => new Promise<ReturnType<typeof ok<typeof probe>>>((r) => (release = () => r(ok(probe)))) as never });
    const flow = new InitiateFlow(api, { ...local, modes: [...local.modes] });
    flow.setField('destinationUrl', 'https://old.example.com');
    const asked = flow.checkDestination();
    flow.setField('destinationUrl', 'https://new.example.com');
    release();
    expect(await asked).toBe(false);
    expect(flow.getState()).toMatchObject({ destination: null, values: { destinationUrl: 'https://new.example.com' }, busy: false });
  });

  it('fills the connection name from the short names and clears its "required" message', async () => {
    const { api } = fakeApi({ listProjects: () => projects });
    const flow = new InitiateFlow(api, { modes: ['SCRIPT'], pollOnly: false });
    flow.setField('noUrl', true);
    await flow.next();
    await flow.next();
    expect(flow.getState().errors.name).toBe('Connection name is required.');
    flow.setField('localShortName', 'jira');
    flow.setField('remoteShortName', 'ado');
    expect(flow.getState()).toMatchObject({ values: { name: 'jira_to_ado' }, errors: {} });
    expect(flow.getState().errors.name).toBeUndefined();
  });

  it('"I don\'t have a URL" skips the probe and offers this node\'s modes', async () => {
    const { api, calls } = fakeApi({ listProjects: () => projects, initiateConnection: () => ok({ connection: connection(), invitationCode: 'C' }) });
    const flow = new InitiateFlow(api, { modes: ['BASIC', 'VISUAL', 'SCRIPT'], pollOnly: false });
    flow.setField('noUrl', true);
    await flow.next();
    expect(flow.getState()).toMatchObject({ step: 'details', modeOptions: ['BASIC', 'VISUAL', 'SCRIPT'], destination: null, values: { mode: 'SCRIPT' } });
    expect(calls.map((c) => c.method)).not.toContain('probeDestination');
    // The guide calls a private partner the destination.
    expect(flow.remoteShortNameLabel).toBe('Destination instance short name');
    flow.setField('localShortName', 'jira');
    await flow.next();
    expect(flow.getState().errors.remoteShortName).toMatch(/^Destination instance short name is required\./);
    await fillDetails(flow);
    flow.setField('project', 'SUP');
    await flow.next();
    expect((calls.at(-1)!.args[0] as { destinationUrl: unknown }).destinationUrl).toBeNull();
    // The invitation screen for a private partner: the destination is "unknown", with the public–private note.
    expect(flow.invitationTexts).toMatchObject({
      destination: 'unknown',
      ensureInstalled: 'Ensure that Exalate is installed on the destination side "unknown"',
      note: expect.stringMatching(/^As this is a Public-Private connection/),
    });
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
    expect(flow.getState().errors.destinationUrl).toMatch(/Enter the destination instance URL/);
    flow.setField('destinationUrl', 'partner dot com');
    await flow.next();
    expect(flow.getState().errors.destinationUrl).toMatch(/not a URL/);
    expect(calls).toHaveLength(0);
  });

  it("shows the backend's probe failure with its code and stays on the step", async () => {
    const { api } = fakeApi({
      probeDestination: () =>
        err({ code: 'DESTINATION_UNREACHABLE', message: 'Could not reach it. Choose "I don\'t have a URL".', fields: { destinationUrl: 'Unreachable.' } }),
    });
    const flow = new InitiateFlow(api, { modes: ['SCRIPT'], pollOnly: false });
    flow.setField('destinationUrl', 'https://gone.example.com');
    await flow.next();
    // Said once each: the field's own word under the field, the whole message with its code above.
    expect(flow.getState()).toMatchObject({
      step: 'destination',
      busy: false,
      banner: { code: 'DESTINATION_UNREACHABLE' },
      errors: { destinationUrl: 'Unreachable.' },
    });
    flow.setField('destinationUrl', 'https://other.example.com');
    expect(flow.getState().banner).toBeNull();
  });

  it('validates short names and keeps a typed connection name', async () => {
    const { api } = fakeApi({ listProjects: () => projects });
    const flow = new InitiateFlow(api, { modes: ['SCRIPT'], pollOnly: false });
    flow.setField('noUrl', true);
    await flow.next();
    flow.setField('localShortName', 'my jira');
    await flow.next();
    expect(flow.getState()).toMatchObject({
      step: 'details',
      errors: { localShortName: expect.stringMatching(/spaces/), remoteShortName: expect.stringMatching(/required/) },
    });
    flow.setField('localShortName', 'jira');
    flow.setField('name', 'Escalations');
    flow.setField('remoteShortName', 'ado');
    expect(flow.getState().values.name).toBe('Escalations');
    flow.back();
    expect(flow.getState().step).toBe('destination');
  });

  it('sends the admin back to the step of a field the backend refused', async () => {
    const { api } = fakeApi({
      listProjects: () => projects,
      initiateConnection: () =>
        err({ code: 'CONNECTION_NAME_TAKEN', message: 'A connection named "jira_to_ado" already exists.', fields: { name: 'Already used.' } }),
    });
    const flow = new InitiateFlow(api, { modes: ['SCRIPT'], pollOnly: false });
    flow.setField('noUrl', true);
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
    await fillDetails(flow);
    await flow.next();
    expect(flow.getState()).toMatchObject({ step: 'project', errors: { project: expect.stringMatching(/Choose the project/) } });
  });
});
