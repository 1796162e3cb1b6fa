import { ConnectionList, actionsFor, partnerLabel, statusReasonFor } from '../src/index.js';
import { connection, err, fakeApi, ok } from './fake-api.js';

describe('connection list', () => {
  it('offers the actions each status allows', () => {
    expect(actionsFor(connection())).toEqual(['copyInvitationCode', 'revokeInvitation', 'delete']);
    expect(actionsFor(connection({ role: 'ACCEPTOR', pendingStep: 'AWAITING_INITIATOR' }))).toEqual(['delete']);
    expect(actionsFor(connection({ status: 'ACTIVE' }))).toEqual(['configure', 'deactivate', 'delete']);
    expect(actionsFor(connection({ status: 'DEACTIVATED' }))).toEqual(['configure', 'activate', 'delete']);
    expect(actionsFor(connection({ status: 'ERROR' }))).toEqual(['configure', 'delete']);
  });

  it("describes the partner in the admin's words", () => {
    expect(partnerLabel(connection())).toBe('ado (not connected yet)');
    expect(
      partnerLabel(
        connection({ partner: { instanceId: 'x', nodeType: 'SERVICENOW', nodeUrl: null, trackerUrl: 'https://acme.service-now.com', private: true } }),
      ),
    ).toBe('ado · ServiceNow at https://acme.service-now.com · private');
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
    const list = new ConnectionList(api, { clipboard: { writeText: async (t) => void written.push(t) } });
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
    // Delete asks first, in the list's own dialog; No keeps the connection.
    list.request('p', 'delete');
    expect(list.getState().confirming).toMatchObject({ id: 'p', action: 'delete', title: 'Delete the connection "pending"?', confirmLabel: 'Delete' });
    list.cancelConfirmation();
    expect(list.getState().confirming).toBeNull();
    expect(list.getState().rows).toHaveLength(2);
    list.request('p', 'delete');
    expect(await list.confirm()).toBe(true);
    expect(list.getState()).toMatchObject({ confirming: null, notice: 'Connection deleted' });
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

  it("says when a Pending invitation expires in the admin's time, with its zone", () => {
    const reason = statusReasonFor(connection({ invitationExpiresAt: '2030-01-01T00:00:00.000Z' }), new Date('2029-12-31T00:00:00Z'));
    expect(reason).toMatch(/^Waiting for the other side to accept the invitation code \(valid until .*2030.*\)\.$/);
    expect(reason).not.toContain('T00:00:00');
    // The zone is named (UTC here, or the machine's own).
    expect(reason).toMatch(/(UTC|GMT|[A-Z]{3,4})/);
    expect(statusReasonFor(connection({ invitationExpiresAt: '2020-01-01T00:00:00.000Z' }))).toMatch(/^The invitation expired on .*2020/);
  });

  it('follows the node while watched: a Pending row turns Active without a reload, and stops when no one watches', async () => {
    let status: 'PENDING' | 'ACTIVE' = 'PENDING';
    const { api, calls } = fakeApi({
      listConnections: () => ok({ connections: [connection({ id: 'p', status, pendingStep: status === 'PENDING' ? 'AWAITING_ACCEPTANCE' : null })] }),
    });
    const timers: Array<{ run: () => void; ms: number; cleared: boolean; fired: boolean }> = [];
    const live = () => timers.filter((t) => !t.cleared && !t.fired).map((t) => t.ms);
    const list = new ConnectionList(api, {
      refreshMs: { pending: 4000, settled: 30000 },
      setTimer: (run, ms) => {
        const t = { run: () => ((t.fired = true), run()), ms, cleared: false, fired: false };
        timers.push(t);
        return t;
      },
      clearTimer: (t) => void ((t as { cleared: boolean }).cleared = true),
    });
    const unsubscribe = list.subscribe(() => {});
    await new Promise((r) => setImmediate(r));
    // The first watcher loads the list; with a Pending row the next look is soon.
    expect(calls.map((c) => c.method)).toEqual(['listConnections']);
    expect(list.getState().rows[0]!.statusLabel).toBe('Pending');
    expect(live()).toEqual([4000]);
    status = 'ACTIVE';
    timers.at(-1)!.run();
    await new Promise((r) => setImmediate(r));
    expect(list.getState().rows[0]!.statusLabel).toBe('Active');
    // Nothing Pending any more: the next look is later.
    expect(live()).toEqual([30000]);
    unsubscribe();
    expect(live()).toEqual([]);
    expect(calls).toHaveLength(2);
  });
});
