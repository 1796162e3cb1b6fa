import { MODE_LABELS, NODE_TYPE_LABELS, type ConnectionStatus, type ConnectionView } from '@exalate/contract';
import type { AdminApi, ClientError } from './api-client.js';
import type { Clipboard } from './initiate-flow.js';
import { Store } from './store.js';

export type ConnectionAction = 'configure' | 'deactivate' | 'activate' | 'copyInvitationCode' | 'revokeInvitation' | 'delete';

export const STATUS_LABELS: Record<ConnectionStatus, string> = { PENDING: 'Pending', ACTIVE: 'Active', DEACTIVATED: 'Deactivated', ERROR: 'Error' };

/** One row of the Connections screen, in the words the admin sees. */
export interface ConnectionRowView {
  id: string;
  name: string;
  partner: string;
  mode: string;
  status: ConnectionStatus;
  statusLabel: string;
  statusReason: string | null;
  actions: ConnectionAction[];
  connection: ConnectionView;
}

export function actionsFor(c: ConnectionView): ConnectionAction[] {
  const actions: ConnectionAction[] = [];
  if (c.status !== 'PENDING') actions.push('configure');
  if (c.status === 'ACTIVE') actions.push('deactivate');
  if (c.status === 'DEACTIVATED') actions.push('activate');
  if (c.status === 'PENDING' && c.role === 'INITIATOR') actions.push('copyInvitationCode', 'revokeInvitation');
  actions.push('delete');
  return actions;
}

export function partnerLabel(c: ConnectionView): string {
  const type = c.partner.nodeType ? NODE_TYPE_LABELS[c.partner.nodeType] : null;
  const where = c.partner.trackerUrl ?? c.partner.nodeUrl;
  if (!type && !where) return `${c.remoteShortName} (not connected yet)`;
  return [c.remoteShortName, type && where ? `${type} at ${where}` : (type ?? where), c.partner.private ? 'private' : null].filter(Boolean).join(' · ');
}

export function toRowView(c: ConnectionView): ConnectionRowView {
  return { id: c.id, name: c.name, partner: partnerLabel(c), mode: MODE_LABELS[c.mode], status: c.status, statusLabel: STATUS_LABELS[c.status], statusReason: c.statusReason, actions: actionsFor(c), connection: c };
}

export interface ConnectionListState {
  loading: boolean;
  rows: ConnectionRowView[];
  error: ClientError | null;
  /** Row ids with an action under way. */
  pending: string[];
  /** Short confirmation of the last action ("Invitation code copied"). */
  notice: string | null;
}

export class ConnectionList extends Store<ConnectionListState> {
  constructor(
    private readonly api: AdminApi,
    private readonly clipboard?: Clipboard,
  ) {
    super({ loading: false, rows: [], error: null, pending: [], notice: null });
  }

  async load(): Promise<void> {
    this.setState({ loading: true, error: null });
    const result = await this.api.listConnections();
    if (!result.ok) return this.setState({ loading: false, error: result.error });
    this.setState({ loading: false, rows: result.value.connections.map(toRowView) });
  }

  /** Runs an action from a row's menu. `configure` is navigation and belongs to the view. */
  async perform(id: string, action: Exclude<ConnectionAction, 'configure'>): Promise<boolean> {
    const row = this.getState().rows.find((r) => r.id === id);
    if (!row || !row.actions.includes(action)) {
      await this.load();
      this.setState({ error: { code: 'CONNECTION_STATE_CONFLICT', message: 'That action is not available for this connection any more. The list has been refreshed.' } });
      return false;
    }
    this.setState((s) => ({ pending: [...s.pending, id], error: null, notice: null }));
    const done = (ok: boolean, patch: Partial<ConnectionListState> = {}) => {
      this.setState((s) => ({ ...patch, pending: s.pending.filter((p) => p !== id) }));
      return ok;
    };
    switch (action) {
      case 'copyInvitationCode': {
        const code = await this.api.getInvitationCode(id);
        if (!code.ok) return done(false, { error: code.error });
        if (!this.clipboard) return done(false, { error: { code: 'VALIDATION_FAILED', message: 'No clipboard is available here.' } });
        try {
          await this.clipboard.writeText(code.value.invitationCode);
        } catch {
          return done(false, { error: { code: 'VALIDATION_FAILED', message: 'Copying to the clipboard was not allowed by the browser.' } });
        }
        return done(true, { notice: 'Invitation code copied' });
      }
      case 'deactivate':
      case 'activate': {
        const r = action === 'deactivate' ? await this.api.deactivateConnection(id) : await this.api.activateConnection(id);
        if (!r.ok) return done(false, { error: r.error });
        return done(true, { rows: this.getState().rows.map((x) => (x.id === id ? toRowView(r.value) : x)), notice: action === 'deactivate' ? 'Connection deactivated' : 'Connection activated' });
      }
      case 'revokeInvitation':
      case 'delete': {
        const r = action === 'delete' ? await this.api.deleteConnection(id) : await this.api.revokeInvitation(id);
        if (!r.ok) return done(false, { error: r.error });
        return done(true, { rows: this.getState().rows.filter((x) => x.id !== id), notice: action === 'delete' ? 'Connection deleted' : 'Invitation revoked' });
      }
    }
  }
}
