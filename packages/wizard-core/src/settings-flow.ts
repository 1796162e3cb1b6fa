import { decodePairingCode, NODE_TYPE_LABELS, type NodeInfo, type NodeSettingsView } from '@exalate/contract';
import type { AdminApi, ApiResult, ClientError, NodeSettingsApi } from './api-client.js';
import { Store } from './store.js';
import { httpUrlError } from './validation.js';
import { wordsFor } from './words.js';

/**
 * Where a frontend keeps its settings. Two kinds:
 * - by URL (Azure DevOps: the extension data service, per organization): the admin enters the
 *   node's URL, the flow checks it and `save` stores it;
 * - by pairing (the Jira Data Center app): the node's operator hands the admin a one-time pairing
 *   code, `pair` gives it to the app, which trades it with the node for its signing key (server to
 *   server) and stores the node's URL with it. There is no URL to type, and nothing to `save`.
 */
export interface SettingsStorage {
  load(): Promise<{ nodeUrl: string } | null>;
  save?(settings: { nodeUrl: string }): Promise<void>;
  pair?(pairingCode: string): Promise<ApiResult<{ nodeUrl: string }>>;
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
  /** 'pairing' when the node comes from a pairing code rather than a typed URL. */
  kind: 'url' | 'pairing';
  /** The pairing code being typed (pairing only); cleared once used. */
  pairingCode: string;
  pairingError: string | null;
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
    super({
      loading: true,
      saved: null,
      nodeUrl: '',
      error: null,
      banner: null,
      busy: false,
      node: null,
      notice: null,
      nodeSettings: null,
      token: '',
      tokenError: null,
      kind: storage.pair ? 'pairing' : 'url',
      pairingCode: '',
      pairingError: null,
    });
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
      this.setState({
        loading: false,
        banner: { code: 'NETWORK_ERROR', message: `The settings could not be read: ${(error as Error).message}. Reload the page.` },
      });
      return;
    }
    await Promise.all([this.loadNodeSettings(), this.loadNodeInfo()]);
  }

  /** What the saved node says it is, so the screen can say which node this side talks to. */
  private async loadNodeInfo(): Promise<void> {
    const saved = this.getState().saved;
    if (!saved) return;
    const info = await this.apiFor(saved).nodeInfo();
    if (info.ok && this.getState().saved === saved) this.setState({ node: info.value });
  }

  setPairingCode(pairingCode: string): void {
    this.setState({ pairingCode, pairingError: null, banner: null, notice: null });
  }

  /**
   * Pairs the app with the node of the code: the code is checked here first (a damaged paste says
   * so at once), then the host trades it with the node. True when paired and the node admits this admin.
   */
  async pair(): Promise<boolean> {
    const pair = this.storage.pair?.bind(this.storage);
    if (!pair) return false;
    const text = this.getState().pairingCode.trim();
    if (!text) {
      this.setState({ pairingError: 'Paste the pairing code the operator of your Exalate node gave you.' });
      return false;
    }
    const decoded = decodePairingCode(text);
    if (!decoded) {
      this.setState({
        pairingError:
          'This is not a whole pairing code: it starts with EXPAIR1. and has four parts separated by dots. Copy it again from the node, in one piece.',
      });
      return false;
    }
    this.setState({ busy: true, pairingError: null, banner: null, notice: null });
    const result = await pair(text);
    if (!result.ok) {
      const onField = result.error.code.startsWith('PAIRING_');
      this.setState({ busy: false, ...(onField ? { pairingError: result.error.message } : { banner: result.error }) });
      return false;
    }
    const nodeUrl = result.value.nodeUrl;
    this.setState({ saved: nodeUrl, nodeUrl, pairingCode: '' });
    const api = this.apiFor(nodeUrl);
    const [info, admitted] = await Promise.all([api.nodeInfo(), api.listConnections()]);
    if (!admitted.ok) {
      this.setState({ busy: false, banner: admitted.error });
      return false;
    }
    this.setState({ busy: false, node: info.ok ? info.value : null, notice: `Paired with the Exalate node at ${nodeUrl}` });
    await this.loadNodeSettings();
    return true;
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
      this.setState({
        busy: false,
        ...(result.error.fields?.['secret'] || result.error.code === 'TRACKER_CREDENTIAL_REJECTED'
          ? { tokenError: result.error.message }
          : { banner: result.error }),
      });
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
      this.setState({
        busy: false,
        error: `That node serves ${NODE_TYPE_LABELS[info.value.nodeType]} at ${info.value.trackerUrl}, not ${NODE_TYPE_LABELS[this.expectedNodeType]}. Enter the URL of this ${wordsFor(this.expectedNodeType).site}'s node.`,
      });
      return false;
    }
    // An authenticated call: the node must admit this admin, or nothing else will work either.
    const admitted = await api.listConnections();
    if (!admitted.ok) {
      this.setState({ busy: false, banner: admitted.error });
      return false;
    }
    try {
      if (!this.storage.save) throw new Error('this frontend stores its node by pairing');
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
