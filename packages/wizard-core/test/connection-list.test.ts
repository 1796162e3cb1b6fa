import { ConnectionList, actionsFor, partnerLabel } from '../src/index.js';
import { connection, err, fakeApi, ok } from './fake-api.js';

describe('connection list', () => {
  it('offers the actions each status allows', () => {
    expect(actionsFor(connection())).toEqual(['copyInvitationCode', 'revokeInvitation', 'delete']);
    expect(actionsFor(connection({ role: 'ACCEPTOR', pendingStep: 'AWAITING_INITIATOR' }))).toEqual(['delete']);
    expect(actionsFor(connection({ status: 'ACTIVE' }))).toEqual(['configure', 'deactivate', 'delete']);
    expect(actionsFor(connection({ status: 'DEACTIVATED' }))).toEqual(['configure', 'activate', 'delete']);
    expect(actionsFor(connection({ status: 'ERROR' }))).toEqual(['configure', 'delete']);
  });

  it('describes the partner in the admin\'s words', () => {
    expect(partnerLabel(connection())).toBe('ado (not connected yet)');
    expect(partnerLabel(connection({ partner: { instanceId: 'x', nodeType: 'SERVICENOW', nodeUrl: null, trackerUrl: 'https://acme.service-now.com', private: true } }))).toBe(
      'ado · ServiceNow at https://acme.service-now.com · private',
    );
  });

  it('loads, deactivates, copies a code again and deletes', async () => {
    const active = connection({ id: 'a', status: 'ACTIVE' });
    const pending = connection({ id: 'p', name: 'pending' });
    const written: string[] = [];
    const { api } = fakeApi({
      listConnections: () => ok({ connections: [active, pending] }),
      deactivateConnection: () => ok({ ...active, status: 'DEACTIVATED' }),
      getInvitationCode: () => ok({ invitationCode: 'CODE', expiresAt: '2030-01-01T00:00:00Z' }),
      deleteConnection: () => ok(null),
    });
    const list = new ConnectionList(api, { writeText: async (t) => void written.push(t) });
    await list.load();
    expect(list.getState().rows.map((r) => [r.name, r.statusLabel, r.mode])).toEqual([
      ['jira_to_ado', 'Active', 'Script'],
      ['pending', 'Pending', 'Script'],
    ]);
    expect(await list.perform('a', 'deactivate')).toBe(true);
    expect(list.getState().rows[0]).toMatchObject({ statusLabel: 'Deactivated', actions: ['configure', 'activate', 'delete'] });
    expect(await list.perform('p', 'copyInvitationCode')).toBe(true);
    expect(written).toEqual(['CODE']);
    expect(list.getState().notice).toBe('Invitation code copied');
    expect(await list.perform('p', 'delete')).toBe(true);
    expect(list.getState().rows.map((r) => r.id)).toEqual(['a']);
  });

  it('refuses an action the row does not offer, and reports API failures', async () => {
    const { api } = fakeApi({
      listConnections: () => ok({ connections: [connection({ id: 'a', status: 'ACTIVE' })] }),
      deleteConnection: () => err({ code: 'NETWORK_ERROR', message: 'Could not reach the Exalate node.' }),
    });
    const list = new ConnectionList(api);
    await list.load();
    expect(await list.perform('a', 'activate')).toBe(false);
    expect(list.getState().error?.code).toBe('CONNECTION_STATE_CONFLICT');
    expect(await list.perform('a', 'delete')).toBe(false);
    expect(list.getState()).toMatchObject({ error: { code: 'NETWORK_ERROR' }, pending: [] });
  });
});
