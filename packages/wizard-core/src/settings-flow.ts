import { NODE_TYPE_LABELS, type NodeInfo, type NodeSettingsView } from '@exalate/contract';
import type { AdminApi, ClientError, NodeSettingsApi } from './api-client.js';
import { Store } from './store.js';
import { httpUrlError } from './validation.js';
import { wordsFor } from './words.js';

/** Where a frontend keeps its settings (Azure DevOps: the extension data service, per organization). */
export interface SettingsStorage {
  load(): Promise<{ nodeUrl: string } | null>;
  save(settings: { nodeUrl: string }): Promise<void>;
}

export interface SettingsState {
  loading: boolean;
  /** The saved node URL; null until the admin saves one. */
  saved: string | null;
  nodeUrl: string;
  error: string | null;
  banner: ClientError | null;
  busy: boolean;
  /** What the node said about itself at the last successful check. */
  node: NodeInfo | null;
  notice: string | null;
  /** The node's own settings, once it is known and admits this admin. */
  nodeSettings: NodeSettingsView | null;
  /** The token being typed; cleared once saved, never read back from the node. */
  token: string;
  tokenError: string | null;
}

/**
 * General settings: which Exalate node this tracker's frontend talks to. Saving checks first that
 * the URL is an Exalate node of the expected tracker, and that it admits this admin.
 */
export class SettingsFlow extends Store<SettingsState> {
  constructor(
    private readonly storage: SettingsStorage,
    private readonly apiFor: (nodeUrl: string) => AdminApi & NodeSettingsApi,
    private readonly expectedNodeType?: NodeInfo['nodeType'],
  ) {
    super({ loading: true, saved: null, nodeUrl: '', error: null, banner: null, busy: false, node: null, notice: null, nodeSettings: null, token: '', tokenError: null });
  }

  /** A screen shows the flow: read the settings. */
  protected override onActive(): void {
    void this.load();
  }

  async load(): Promise<void> {
    this.setState({ loading: true, banner: null });
    try {
      const settings = await this.storage.load();
      this.setState({ loading: false, saved: settings?.nodeUrl ?? null, nodeUrl: settings?.nodeUrl ?? '' });
    } catch (error) {
      this.setState({ loading: false, banner: { code: 'NETWORK_ERROR', message: `The settings could not be read: ${(error as Error).message}. Reload the page.` } });
      return;
    }
    await this.loadNodeSettings();
  }

  /** What the saved node says about its own settings (where its tracker credential comes from). */
  async loadNodeSettings(): Promise<void> {
    const saved = this.getState().saved;
    if (!saved) return;
    const settings = await this.apiFor(saved).getSettings();
    this.setState(settings.ok ? { nodeSettings: settings.value } : { banner: settings.error });
  }

  setToken(token: string): void {
    this.setState({ token, tokenError: null, notice: null });
  }

  /** Sends the token to the node, which checks it against the tracker and stores it sealed. */
  async saveToken(): Promise<boolean> {
    const { saved, token } = this.getState();
    if (!saved) return false;
    if (!token.trim()) {
      this.setState({ tokenError: 'Enter the personal access token.' });
      return false;
    }
    this.setState({ busy: true, tokenError: null, banner: null, notice: null });
    const result = await this.apiFor(saved).setTrackerCredential(token);
    if (!result.ok) {
      this.setState({ busy: false, ...(result.error.fields?.['secret'] || result.error.code === 'TRACKER_CREDENTIAL_REJECTED' ? { tokenError: result.error.message } : { banner: result.error }) });
      return false;
    }
    // The token is not kept in the page once the node has it.
    this.setState({ busy: false, token: '', nodeSettings: result.value, notice: 'Token saved: the node stores it encrypted and acts with it from now on' });
    return true;
  }

  setNodeUrl(nodeUrl: string): void {
    this.setState({ nodeUrl, error: null, banner: null, notice: null });
  }

  /** Checks the URL against the node and saves it. True when saved. */
  async save(): Promise<boolean> {
    const url = this.getState().nodeUrl.trim().replace(/\/+$/, '');
    const problem = nodeUrlError(url, this.expectedNodeType ? wordsFor(this.expectedNodeType).nodeUrlExample : undefined);
    if (problem) {
      this.setState({ error: problem });
      return false;
    }
    this.setState({ busy: true, error: null, banner: null, notice: null });
    const api = this.apiFor(url);
    const info = await api.nodeInfo();
    if (!info.ok) {
      this.setState({ busy: false, error: `No Exalate node answered at this URL (${info.error.message}). Check the URL: it ends with /nodes/<node id>.` });
      return false;
    }
    if (this.expectedNodeType && info.value.nodeType !== this.expectedNodeType) {
      this.setState({ busy: false, error: `That node serves ${NODE_TYPE_LABELS[info.value.nodeType]} at ${info.value.trackerUrl}, not ${NODE_TYPE_LABELS[this.expectedNodeType]}. Enter the URL of this ${wordsFor(this.expectedNodeType).site}'s node.` });
      return false;
    }
    // An authenticated call: the node must admit this admin, or nothing else will work either.
    const admitted = await api.listConnections();
    if (!admitted.ok) {
      this.setState({ busy: false, banner: admitted.error });
      return false;
    }
    try {
      await this.storage.save({ nodeUrl: url });
    } catch (error) {
      this.setState({ busy: false, banner: { code: 'NETWORK_ERROR', message: `The settings could not be saved: ${(error as Error).message}. Try again.` } });
      return false;
    }
    this.setState({ busy: false, saved: url, nodeUrl: url, node: info.value, notice: 'Settings saved' });
    await this.loadNodeSettings();
    return true;
  }
}

export function nodeUrlError(url: string, example = 'https://exalate.acme.com/nodes/ado'): string | null {
  return httpUrlError(url, `Enter the URL of the Exalate node for this tracker, like ${example}.`, `the node's address, like ${example}`);
}
