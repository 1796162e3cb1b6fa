import type { ConnectionView, SyncQueueView } from '@exalate/contract';
import type { AdminApi, ClientError, SyncAdminApi } from './api-client.js';
import { Store } from './store.js';

/**
 * The sync queue of every connection on one screen (ServiceNow's *Sync queue* module): per
 * connection, its items by status, the messages waiting each way, and the items that need
 * attention, with retry. A connection not established yet has no queue and is listed without one.
 *   loading → loaded (→ retrying → loaded); "Refresh" loads again.
 */
export interface QueueRow {
  connection: ConnectionView;
  /** Null while the connection is not established (or when its queue could not be read: `error`). */
  queue: SyncQueueView | null;
  error: ClientError | null;
}

export interface QueueOverviewState {
  loading: boolean;
  loaded: boolean;
  rows: QueueRow[];
  banner: ClientError | null;
  notice: string | null;
  busy: string | null;
}

export class QueueOverview extends Store<QueueOverviewState> {
  constructor(private readonly api: Pick<AdminApi, 'listConnections'> & Pick<SyncAdminApi, 'getQueue' | 'retryItem' | 'retryFailed'>) {
    super({ loading: false, loaded: false, rows: [], banner: null, notice: null, busy: null });
  }

  protected override onActive(): void {
    void this.load();
  }

  /** Items failed across every connection (what the module's headline counts). */
  get failed(): number {
    return this.getState().rows.reduce((n, r) => n + (r.queue?.items.FAILED ?? 0), 0);
  }

  async load(): Promise<void> {
    this.setState({ loading: true, banner: null });
    const list = await this.api.listConnections();
    if (!list.ok) return this.setState({ loading: false, banner: list.error });
    const rows = await Promise.all(
      list.value.connections.map(async (connection): Promise<QueueRow> => {
        if (connection.status === 'PENDING') return { connection, queue: null, error: null };
        const queue = await this.api.getQueue(connection.id);
        return queue.ok ? { connection, queue: queue.value, error: null } : { connection, queue: null, error: queue.error };
      }),
    );
    this.setState({ loading: false, loaded: true, rows });
  }

  async retry(connectionId: string, key: string): Promise<boolean> {
    return this.run('Retrying', async () => {
      const done = await this.api.retryItem(connectionId, key);
      if (!done.ok) return this.fail(done.error);
      await this.load();
      this.setState({ notice: `${key} is queued again` });
      return true;
    });
  }

  async retryAllFailed(connectionId: string): Promise<boolean> {
    return this.run('Retrying the failed items', async () => {
      const done = await this.api.retryFailed(connectionId);
      if (!done.ok) return this.fail(done.error);
      await this.load();
      this.setState({ notice: done.value.retried === 1 ? '1 item is queued again' : `${done.value.retried} items are queued again` });
      return true;
    });
  }

  private fail(error: ClientError): false {
    this.setState({ banner: error });
    return false;
  }

  private async run(label: string, action: () => Promise<boolean>): Promise<boolean> {
    if (this.getState().busy) return false;
    this.setState({ busy: label, banner: null, notice: null });
    try {
      return await action();
    } finally {
      this.setState({ busy: null });
    }
  }
}
