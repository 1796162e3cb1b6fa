import { MODE_LABELS, NODE_TYPE_LABELS, type ConnectionStatus, type ConnectionView } from '@exalate/contract';
import type { AdminApi, ClientError } from './api-client.js';
import type { Clipboard } from './initiate-flow.js';
import { Store } from './store.js';
import { formatTime } from './words.js';

/**
 * The Connections screen: the list, each row's actions, and the confirmation a destructive action
 * asks for. While watched, the list follows the node: every few seconds while a connection is
 * Pending (the guide: its status changes when the partner accepts), less often otherwise.
 */
export type ConnectionAction = 'configure' | 'deactivate' | 'activate' | 'copyInvitationCode' | 'revokeInvitation' | 'delete';

export const STATUS_LABELS: Record<ConnectionStatus, string> = { PENDING: 'Pending', ACTIVE: 'Active', DEACTIVATED: 'Deactivated', ERROR: 'Error' };

export const ACTION_LABELS: Record<ConnectionAction, string> = {
  configure: 'Configure',
  deactivate: 'Deactivate',
  activate: 'Activate',
  copyInvitationCode: 'Copy invitation code',
  revokeInvitation: 'Revoke invitation',
  delete: 'Delete',
};

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

/** Why a connection is as it is; the invitation's expiry in the admin's own time and zone. */
export function statusReasonFor(c: ConnectionView, now = new Date()): string | null {
  if (c.status === 'PENDING' && c.pendingStep === 'AWAITING_ACCEPTANCE' && c.invitationExpiresAt) {
    const expires = formatTime(c.invitationExpiresAt);
    return new Date(c.invitationExpiresAt) <= now
      ? `The invitation expired on ${expires}. Delete this connection and initiate a new one.`
      : `Waiting for the other side to accept the invitation code (valid until ${expires}).`;
  }
  return c.statusReason;
}

export function toRowView(c: ConnectionView): ConnectionRowView {
  return {
    id: c.id,
    name: c.name,
    partner: partnerLabel(c),
    mode: MODE_LABELS[c.mode],
    status: c.status,
    statusLabel: STATUS_LABELS[c.status],
    statusReason: statusReasonFor(c),
    actions: actionsFor(c),
    connection: c,
  };
}

/** A destructive action waiting for the admin's yes, in the words of the dialog that asks. */
export interface PendingConfirmation {
  id: string;
  action: 'delete' | 'revokeInvitation';
  title: string;
  message: string;
  confirmLabel: string;
}

export interface ConnectionListState {
  loading: boolean;
  /** Whether the list has been loaded at least once. */
  loaded: boolean;
  rows: ConnectionRowView[];
  error: ClientError | null;
  /** Row ids with an action under way. */
  pending: string[];
  /** Short confirmation of the last action ("Invitation code copied"). */
  notice: string | null;
  confirming: PendingConfirmation | null;
}

export interface ConnectionListOptions {
  clipboard?: Clipboard;
  /** How often the list is read again while it is watched: with a Pending row, and without. */
  refreshMs?: { pending: number; settled: number };
  /** Timers (tests pass their own). */
  setTimer?: (run: () => void, ms: number) => unknown;
  clearTimer?: (timer: unknown) => void;
}

export class ConnectionList extends Store<ConnectionListState> {
  private timer: unknown = null;
  /** Counts loads, so a quiet re-read that overlapped one neither overwrites it nor starts a second timer. */
  private generation = 0;
  private readonly refreshMs: { pending: number; settled: number };

  constructor(
    private readonly api: AdminApi,
    private readonly options: ConnectionListOptions = {},
  ) {
    super({ loading: false, loaded: false, rows: [], error: null, pending: [], notice: null, confirming: null });
    this.refreshMs = options.refreshMs ?? { pending: 4_000, settled: 30_000 };
  }

  protected override onActive(): void {
    void this.load();
  }

  protected override onInactive(): void {
    this.stopTimer();
  }

  async load(): Promise<void> {
    this.stopTimer();
    const generation = ++this.generation;
    this.setState({ loading: true, error: null });
    const result = await this.api.listConnections();
    if (generation !== this.generation) return;
    if (!result.ok) this.setState({ loading: false, error: result.error });
    else this.setState({ loading: false, loaded: true, rows: result.value.connections.map(toRowView) });
    this.scheduleRefresh();
  }

  /** What a row's button does: navigation (configure) is the session's; delete and revoke ask first. */
  request(id: string, action: Exclude<ConnectionAction, 'configure'>): void {
    const row = this.getState().rows.find((r) => r.id === id);
    if (!row) return;
    if (action === 'delete') {
      this.setState({
        notice: null,
        confirming: {
          id,
          action,
          title: `Delete the connection "${row.name}"?`,
          message: 'Synced items stay as they are on both sides; the partner is told the connection is gone. This cannot be undone.',
          confirmLabel: 'Delete',
        },
      });
      return;
    }
    if (action === 'revokeInvitation') {
      this.setState({
        notice: null,
        confirming: {
          id,
          action,
          title: `Revoke the invitation of "${row.name}"?`,
          message: 'The invitation code stops working and the Pending connection is removed. You can initiate a new one.',
          confirmLabel: 'Revoke invitation',
        },
      });
      return;
    }
    void this.perform(id, action);
  }

  cancelConfirmation(): void {
    this.setState({ confirming: null });
  }

  async confirm(): Promise<boolean> {
    const c = this.getState().confirming;
    if (!c) return false;
    this.setState({ confirming: null });
    return this.perform(c.id, c.action);
  }

  /** Runs an action from a row (delete and revoke only after `request` asked and the admin confirmed). */
  async perform(id: string, action: Exclude<ConnectionAction, 'configure'>): Promise<boolean> {
    const row = this.getState().rows.find((r) => r.id === id);
    if (!row || !row.actions.includes(action)) {
      await this.load();
      this.setState({
        error: { code: 'CONNECTION_STATE_CONFLICT', message: 'That action is not available for this connection any more. The list has been refreshed.' },
      });
      return false;
    }
    this.setState((s) => ({ pending: [...s.pending, id], error: null, notice: null }));
    const done = (ok: boolean, patch: Partial<ConnectionListState> = {}) => {
      this.generation += 1;
      this.setState((s) => ({ ...patch, pending: s.pending.filter((p) => p !== id) }));
      return ok;
    };
    switch (action) {
      case 'copyInvitationCode': {
        const code = await this.api.getInvitationCode(id);
        if (!code.ok) return done(false, { error: code.error });
        if (!this.options.clipboard) return done(false, { error: { code: 'VALIDATION_FAILED', message: 'No clipboard is available here.' } });
        try {
          await this.options.clipboard.writeText(code.value.invitationCode);
        } catch {
          return done(false, { error: { code: 'VALIDATION_FAILED', message: 'Copying to the clipboard was not allowed by the browser.' } });
        }
        return done(true, { notice: 'Invitation code copied' });
      }
      case 'deactivate':
      case 'activate': {
        const r = action === 'deactivate' ? await this.api.deactivateConnection(id) : await this.api.activateConnection(id);
        if (!r.ok) return done(false, { error: r.error });
        return done(true, {
          rows: this.getState().rows.map((x) => (x.id === id ? toRowView(r.value) : x)),
          notice: action === 'deactivate' ? 'Connection deactivated' : 'Connection activated',
        });
      }
      case 'revokeInvitation':
      case 'delete': {
        const r = action === 'delete' ? await this.api.deleteConnection(id) : await this.api.revokeInvitation(id);
        if (!r.ok) return done(false, { error: r.error });
        return done(true, { rows: this.getState().rows.filter((x) => x.id !== id), notice: action === 'delete' ? 'Connection deleted' : 'Invitation revoked' });
      }
    }
  }

  /** One timer at most: a new schedule replaces the one before. */
  private scheduleRefresh(): void {
    this.stopTimer();
    if (!this.active) return;
    const ms = this.getState().rows.some((r) => r.status === 'PENDING') ? this.refreshMs.pending : this.refreshMs.settled;
    const set = this.options.setTimer ?? ((run, wait) => setTimeout(run, wait));
    this.timer = set(() => {
      this.timer = null;
      void this.refresh();
    }, ms);
  }

  /** A quiet re-read: no spinner, and a failure keeps the rows shown (with the error). */
  private async refresh(): Promise<void> {
    if (!this.active) return;
    const generation = this.generation;
    const result = await this.api.listConnections();
    if (!this.active) return;
    // A load or an action changed the list meanwhile: this answer may be older than what is shown.
    if (generation !== this.generation) return this.scheduleRefresh();
    if (result.ok) this.setState({ rows: result.value.connections.map(toRowView) });
    else this.setState({ error: result.error });
    this.scheduleRefresh();
  }

  private stopTimer(): void {
    if (this.timer === null) return;
    (this.options.clearTimer ?? ((t) => clearTimeout(t as ReturnType<typeof setTimeout>)))(this.timer);
    this.timer = null;
  }
}
