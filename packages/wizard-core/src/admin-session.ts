import type { NodeInfo, NodeType } from '@exalate/contract';
import { AcceptFlow } from './accept-flow.js';
import type { AdminApi, ApiResult, ClientError, NodeSettingsApi, SyncAdminApi } from './api-client.js';
import { ConfigureSyncFlow } from './configure-sync-flow.js';
import { ConnectionList } from './connection-list.js';
import { InitiateFlow, type Clipboard } from './initiate-flow.js';
import { QueueOverview } from './queue-overview.js';
import { SettingsFlow, type SettingsStorage } from './settings-flow.js';
import { Store } from './store.js';
import { wordsFor, type TrackerWords } from './words.js';

/**
 * The admin session every frontend renders: which screen is open, which flow is alive, what the
 * node said about itself and where the node is. A frontend supplies the host (how it stores the
 * node URL, how it signs its calls, the clipboard) and draws `getState().screen`; the session does
 * the rest. Screens:
 *   loading → settings (no node URL saved yet) | connections
 *   connections ⇄ dialog initiate | dialog accept;  connections → configure → connections
 *   settings ⇄ connections (once a node URL is saved);  queue (every connection's sync queue)
 * Each visit to a screen gets new flows, so a finished wizard or an old notice never shows again.
 */
export interface AdminHost {
  /** The tracker this frontend lives in: its words, and the node type General settings expects. */
  readonly nodeType: NodeType;
  /** The tracker's words, when the host wants others than the defaults for its node type. */
  readonly words?: TrackerWords;
  readonly clipboard: Clipboard;
  loadSettings(): Promise<{ nodeUrl: string } | null>;
  /** Stores a node URL the admin entered (Azure DevOps). */
  saveSettings?(settings: { nodeUrl: string }): Promise<void>;
  /**
   * Pairs with a node by the one-time code its operator handed out, where the tracker's app holds
   * the node (Jira Data Center). General settings then asks for the code instead of a URL.
   */
  pair?(pairingCode: string): Promise<ApiResult<{ nodeUrl: string }>>;
  /** The node's admin API, every call signed the host's way. */
  api(nodeUrl: string): AdminApi & SyncAdminApi & NodeSettingsApi;
  /**
   * Where incoming items go when nobody is asked (ServiceNow: `incident`): Accept has no project
   * step, Initiate offers it preselected; Configure sync changes it.
   */
  readonly incomingProject?: string;
  /** The screen to open first when a node is known (a Jira admin page per sidebar item); Connections by default. */
  readonly initialTab?: AdminTab;
  /** The session has read its settings and shows its first screen. */
  loaded?(): void;
}

export type ConnectionsDialog = { name: 'initiate'; flow: InitiateFlow } | { name: 'accept'; flow: AcceptFlow };

export type AdminScreen =
  | { name: 'loading' }
  | { name: 'connections'; list: ConnectionList; dialog: ConnectionsDialog | null }
  | { name: 'configure'; flow: ConfigureSyncFlow }
  | { name: 'settings'; flow: SettingsFlow }
  | { name: 'queue'; overview: QueueOverview };

/** The frontends' tabs (Jira's sidebar items, ServiceNow's modules): the sync queue of every connection is ServiceNow's *Sync queue*. */
export type AdminTab = 'connections' | 'queue' | 'settings';

export interface AdminSessionState {
  screen: AdminScreen;
  /** The selected tab (Configure sync belongs to Connections). */
  tab: AdminTab;
  /** The saved node URL; null until General settings saved one. */
  nodeUrl: string | null;
  /** What this side's node said about itself. */
  local: NodeInfo | null;
  /** The node could not be asked (shown above Connections), with its code. */
  problem: ClientError | null;
}

export class AdminSession extends Store<AdminSessionState> {
  readonly words: TrackerWords;
  private api: (AdminApi & SyncAdminApi & NodeSettingsApi) | null = null;
  private started = false;

  constructor(private readonly host: AdminHost) {
    super({ screen: { name: 'loading' }, tab: 'connections', nodeUrl: null, local: null, problem: null });
    this.words = host.words ?? wordsFor(host.nodeType);
  }

  /** The first view that watches the session starts it. */
  protected override onActive(): void {
    if (!this.started) void this.start();
  }

  async start(): Promise<void> {
    if (this.started) return;
    this.started = true;
    let saved: { nodeUrl: string } | null = null;
    let problem: ClientError | null = null;
    try {
      saved = await this.host.loadSettings();
    } catch (error) {
      problem = { code: 'NETWORK_ERROR', message: `The settings could not be read: ${(error as Error).message}. Reload the page.` };
    }
    if (saved?.nodeUrl) {
      this.useNode(saved.nodeUrl);
      if (this.host.initialTab === 'settings') this.showSettings();
      else if (this.host.initialTab === 'queue') this.showQueue();
      else this.showConnections();
      void this.loadLocal();
    } else {
      this.showSettings();
      if (problem) this.setState({ problem });
    }
    this.host.loaded?.();
  }

  /** The Connections tab: a fresh list (no notice from an earlier visit). Without a node URL, General settings. */
  showConnections(): void {
    if (!this.api) return this.showSettings();
    this.setState({
      tab: 'connections',
      screen: { name: 'connections', list: new ConnectionList(this.api, { clipboard: this.host.clipboard }), dialog: null },
    });
  }

  /** Every connection's sync queue on one screen. Without a node URL, General settings. */
  showQueue(): void {
    if (!this.api) return this.showSettings();
    this.setState({ tab: 'queue', screen: { name: 'queue', overview: new QueueOverview(this.api) } });
  }

  showSettings(): void {
    const host = this.host;
    const storage: SettingsStorage = {
      load: () => host.loadSettings(),
      ...(host.saveSettings && {
        save: async (settings: { nodeUrl: string }) => {
          await host.saveSettings!(settings);
          this.nodeSaved(settings.nodeUrl);
        },
      }),
      ...(host.pair && {
        pair: async (code: string) => {
          const paired = await host.pair!(code);
          if (paired.ok) this.nodeSaved(paired.value.nodeUrl);
          return paired;
        },
      }),
    };
    this.setState({ tab: 'settings', screen: { name: 'settings', flow: new SettingsFlow(storage, (url) => this.host.api(url), this.host.nodeType) } });
  }

  /** Initiate connection, as a dialog over the list. Needs what this node offers (its modes, whether it is private). */
  async openInitiate(): Promise<void> {
    const local = this.getState().local ?? (await this.loadLocal());
    const screen = this.getState().screen;
    if (!local || !this.api || screen.name !== 'connections') return;
    const flow = new InitiateFlow(this.api, local, {
      clipboard: this.host.clipboard,
      onFinished: () => this.closeDialog(),
      ...(this.host.incomingProject ? { project: this.host.incomingProject } : {}),
    });
    this.setState({ screen: { ...screen, dialog: { name: 'initiate', flow } } });
  }

  openAccept(): void {
    const screen = this.getState().screen;
    if (!this.api || screen.name !== 'connections') return;
    const flow = new AcceptFlow(this.api, {
      onConfigure: (id) => this.configure(id),
      ...(this.host.incomingProject ? { incomingProject: this.host.incomingProject } : {}),
    });
    this.setState({ screen: { ...screen, dialog: { name: 'accept', flow } } });
  }

  /** × or Done: back to the list, read again (the dialog may have added a connection). */
  closeDialog(): void {
    const screen = this.getState().screen;
    if (screen.name !== 'connections' || !screen.dialog) return;
    this.setState({ screen: { ...screen, dialog: null } });
    void screen.list.load();
  }

  /** Configure sync of one connection. */
  configure(connectionId: string): void {
    if (!this.api) return;
    this.setState({ tab: 'connections', screen: { name: 'configure', flow: new ConfigureSyncFlow(this.api, connectionId) } });
  }

  /** Asks the node about itself again (after "Refresh", or when it was unreachable). */
  async loadLocal(): Promise<NodeInfo | null> {
    if (!this.api) return null;
    const api = this.api;
    const info = await api.nodeInfo();
    // Another node was saved meanwhile: this answer is about the old one.
    if (api !== this.api) return null;
    this.setState(info.ok ? { local: info.value, problem: null } : { local: null, problem: info.error });
    return info.ok ? info.value : null;
  }

  private useNode(nodeUrl: string): void {
    this.api = this.host.api(nodeUrl);
    this.setState({ nodeUrl, local: null, problem: null });
  }

  /** General settings saved a node URL: the session talks to that node from now on (and stays on the settings, which say so). */
  private nodeSaved(nodeUrl: string): void {
    if (nodeUrl !== this.getState().nodeUrl) this.useNode(nodeUrl);
    void this.loadLocal();
  }
}
