import { BACKENDS, eventually, nodeConfig, startTestServer, type TestServer } from './support.js';

const initiateBody = (destinationUrl: string | null, extra: Record<string, unknown> = {}) => ({
  destinationUrl,
  mode: 'SCRIPT',
  localShortName: 'jira',
  remoteShortName: 'ado',
  description: 'Escalations to engineering',
  project: 'SUP',
  ...extra,
});

describe.each(BACKENDS)('connection lifecycle on %s', (backend) => {
  describe('public – public', () => {
    let t: TestServer;
    beforeAll(async () => {
      t = await startTestServer(backend, [nodeConfig('jira'), nodeConfig('ado', { nodeType: 'AZURE_DEVOPS' })]);
    });
    afterAll(() => t.close());

    it('probes, initiates, previews, accepts, and both sides are Active; restart keeps it', async () => {
      const jira = t.api('jira');
      const ado = t.api('ado');

      const probe = await jira.post('/destinations/probe', { url: `  ${t.url('ado')}/  ` });
      expect(probe.status).toBe(200);
      expect(probe.body).toMatchObject({ url: t.url('ado'), nodeType: 'AZURE_DEVOPS', pollOnly: false, modes: ['BASIC', 'VISUAL', 'SCRIPT'] });

      const init = await jira.post('/connections', initiateBody(t.url('ado')));
      expect(init.status).toBe(201);
      const { connection, invitationCode } = init.body;
      expect(connection).toMatchObject({ name: 'jira_to_ado', status: 'PENDING', pendingStep: 'AWAITING_ACCEPTANCE', role: 'INITIATOR', mode: 'SCRIPT' });
      expect(typeof invitationCode).toBe('string');

      const again = await jira.get(`/connections/${connection.id}/invitation`);
      expect(again.body.invitationCode).toBe(invitationCode);

      const preview = await ado.post('/invitations/preview', { code: invitationCode });
      expect(preview.status).toBe(200);
      expect(preview.body).toMatchObject({
        connectionName: 'jira_to_ado',
        mode: 'SCRIPT',
        localShortName: 'ado',
        remoteShortName: 'jira',
        initiator: { nodeType: 'JIRA_CLOUD', nodeUrl: t.url('jira'), private: false },
        nameTaken: false,
      });

      const accepted = await ado.post('/invitations/accept', { code: invitationCode, project: 'DEV' });
      expect(accepted.status).toBe(201);
      expect(accepted.body.connection).toMatchObject({
        id: connection.id,
        status: 'ACTIVE',
        role: 'ACCEPTOR',
        project: 'DEV',
        localShortName: 'ado',
        remoteShortName: 'jira',
      });

      const onJira = (await jira.get(`/connections/${connection.id}`)).body;
      expect(onJira).toMatchObject({ status: 'ACTIVE', partner: { nodeType: 'AZURE_DEVOPS', nodeUrl: t.url('ado'), private: false } });
      // The acceptor proved the key with a signed request, so the initiator dropped the invitation secret.
      await eventually(async () => {
        const rows = await t.server.nodes.get('jira')!.database.query<{ handshake: unknown }>('select handshake from connections');
        expect(rows[0]!.handshake).toBeNull();
      });
      expect((await jira.get(`/connections/${connection.id}/invitation`)).body.error.code).toBe('CONNECTION_STATE_CONFLICT');

      await t.restart();
      const listJira = await t.api('jira').get('/connections');
      const listAdo = await t.api('ado').get('/connections');
      expect(listJira.body.connections).toEqual([expect.objectContaining({ id: connection.id, status: 'ACTIVE' })]);
      expect(listAdo.body.connections).toEqual([expect.objectContaining({ id: connection.id, status: 'ACTIVE' })]);
      // Same identity after restart: the partner's stored instance id still matches.
      expect((await t.api('ado').get(`/connections/${connection.id}`)).body.partner.instanceId).toBe(t.server.nodes.get('jira')!.nodeInfo.instanceId);
    });

    it('deactivates, activates and deletes; the partner learns of the deletion', async () => {
      const jira = t.api('jira');
      const ado = t.api('ado');
      const { invitationCode, connection } = (await jira.post('/connections', initiateBody(t.url('ado'), { name: 'second' }))).body;
      await ado.post('/invitations/accept', { code: invitationCode, project: 'SUP' });

      expect((await jira.post(`/connections/${connection.id}/deactivate`)).body.status).toBe('DEACTIVATED');
      expect((await jira.post(`/connections/${connection.id}/deactivate`)).body.error.code).toBe('CONNECTION_STATE_CONFLICT');
      expect((await jira.post(`/connections/${connection.id}/activate`)).body.status).toBe('ACTIVE');

      expect((await jira.delete(`/connections/${connection.id}`)).status).toBe(204);
      expect((await jira.get(`/connections/${connection.id}`)).status).toBe(404);
      const onAdo = (await ado.get(`/connections/${connection.id}`)).body;
      expect(onAdo).toMatchObject({ status: 'ERROR', statusReason: expect.stringMatching(/partner deleted/) });
    });

    it('revokes a pending invitation, and the code no longer works', async () => {
      const jira = t.api('jira');
      const { invitationCode, connection } = (await jira.post('/connections', initiateBody(t.url('ado'), { name: 'revoked' }))).body;
      expect((await jira.post(`/connections/${connection.id}/revoke-invitation`)).status).toBe(204);
      const accept = await t.api('ado').post('/invitations/accept', { code: invitationCode, project: 'SUP' });
      expect(accept.status).toBe(410);
      expect(accept.body.error.code).toBe('INVITATION_REVOKED');
      expect((await t.api('ado').get('/connections')).body.connections.map((c: { name: string }) => c.name)).not.toContain('revoked');
    });
  });

  describe('public initiator – private acceptor ("I don\'t have a URL")', () => {
    it('the private node initiates every request and polls; it needs no reachable address', async () => {
      // The private node runs on its own server with no peer API mounted at all: nothing can call it.
      const pub = await startTestServer(backend, [nodeConfig('jira')]);
      const priv = await startTestServer(backend, [nodeConfig('snow', { nodeType: 'SERVICENOW', private: true })]);
      const privInfo = (await fetch(`${priv.url('snow')}/api/v1/node-info`).then((r) => r.json())) as { nodeUrl: unknown; pollOnly: boolean };
      expect(privInfo).toMatchObject({ nodeUrl: null, pollOnly: true });
      expect((await fetch(`${priv.url('snow')}/api/v1/peer/connections/x/poll`, { method: 'POST' })).status).toBe(404);

      const init = await pub.api('jira').post('/connections', initiateBody(null, { remoteShortName: 'snow' }));
      expect(init.status).toBe(201);
      const { invitationCode, connection } = init.body;
      const preview = (await priv.api('snow').post('/invitations/preview', { code: invitationCode })).body;
      expect(preview).toMatchObject({ initiator: { private: false }, localShortName: 'snow' });

      const accepted = await priv.api('snow').post('/invitations/accept', { code: invitationCode, project: 'incident' });
      expect(accepted.body.connection).toMatchObject({ status: 'ACTIVE', partner: { private: false } });
      const onPub = (await pub.api('jira').get(`/connections/${connection.id}`)).body;
      expect(onPub).toMatchObject({ status: 'ACTIVE', partner: { nodeType: 'SERVICENOW', nodeUrl: null, private: true } });

      // The private side learns of a deletion on the public side by polling.
      await pub.api('jira').delete(`/connections/${connection.id}`);
      await eventually(async () => {
        expect((await priv.api('snow').get(`/connections/${connection.id}`)).body.status).toBe('ERROR');
      });
    });
  });

  describe('private initiator – public acceptor', () => {
    it('the acceptance waits until the private initiator collects it, then both sides are Active', async () => {
      const pub = await startTestServer(backend, [nodeConfig('ado', { nodeType: 'AZURE_DEVOPS' })]);
      // Polls once at start, then only every minute: long enough to see the acceptance wait.
      const priv = await startTestServer(backend, [nodeConfig('snow', { nodeType: 'SERVICENOW', private: true })], { pollIntervalMs: 60_000 });
      // Its round at start must be over before the invitation exists, or (on a busy machine) it
      // could collect the acceptance this test expects to wait.
      await priv.server.nodes.get('snow')!.startupTick;

      const noUrl = await priv.api('snow').post('/connections', initiateBody(null, { localShortName: 'snow' }));
      expect(noUrl.body.error.code).toBe('BOTH_SIDES_PRIVATE');

      const init = await priv.api('snow').post('/connections', initiateBody(pub.url('ado'), { localShortName: 'snow', project: 'incident' }));
      expect(init.status).toBe(201);
      const { invitationCode, connection } = init.body;
      expect(connection.partner).toMatchObject({ nodeUrl: pub.url('ado') });

      const accepted = await pub.api('ado').post('/invitations/accept', { code: invitationCode, project: 'DEV' });
      expect(accepted.status).toBe(201);
      expect(accepted.body.connection).toMatchObject({ status: 'PENDING', pendingStep: 'AWAITING_INITIATOR', statusReason: expect.stringMatching(/private/) });
      await new Promise((r) => setTimeout(r, 300));
      expect((await pub.api('ado').get(`/connections/${connection.id}`)).body.status).toBe('PENDING');
      expect((await priv.api('snow').get(`/connections/${connection.id}`)).body.status).toBe('PENDING');

      // The private node restarts (keeping its pending invitation) and collects the acceptance.
      await priv.restart({ pollIntervalMs: 100 });
      await eventually(async () => {
        expect((await priv.api('snow').get(`/connections/${connection.id}`)).body).toMatchObject({
          status: 'ACTIVE',
          partner: { nodeType: 'AZURE_DEVOPS', private: false },
        });
        expect((await pub.api('ado').get(`/connections/${connection.id}`)).body).toMatchObject({ status: 'ACTIVE', partner: { private: true, nodeUrl: null } });
      });

      // The private side deletes: it tells the public side directly.
      await priv.api('snow').delete(`/connections/${connection.id}`);
      expect((await pub.api('ado').get(`/connections/${connection.id}`)).body.status).toBe('ERROR');
    });
  });
});
