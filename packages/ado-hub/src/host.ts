import * as SDK from 'azure-devops-extension-sdk';
import type { IExtensionDataService } from 'azure-devops-extension-api';
import { AdminApiClient, wordsFor, type AdminHost } from '@exalate/wizard-core';

/** The data service of the extension host (ms.vss-features.extension-data-service). */
const EXTENSION_DATA_SERVICE = 'ms.vss-features.extension-data-service';
/** The organization-wide settings document of the hub. */
const SETTINGS_KEY = 'exalate-settings';
/** Sent with every call: the backend checks with Azure DevOps which organization it belongs to. */
const ACCESS_TOKEN_HEADER = 'X-Azure-DevOps-Access-Token';

export interface HubSettings {
  /** The URL of this organization's Exalate node, e.g. https://exalate.acme.com/nodes/ado */
  nodeUrl: string;
}

/** The admin session's host in Azure DevOps, once the SDK's handshake is done; and who is signed in where. */
export interface HubHost extends AdminHost {
  organization: string;
  userName: string;
  loadSettings(): Promise<HubSettings | null>;
  saveSettings(settings: HubSettings): Promise<void>;
  /** The admin API of the node, called with this user's app token and access token. */
  api(nodeUrl: string): AdminApiClient;
  loaded(): void;
  failed(error: Error): void;
}

/**
 * Connects to Azure DevOps through the SDK. Null when the page is not framed by Azure DevOps (opened
 * directly), or the frame never answers the handshake.
 */
export async function connectToHost(timeoutMs = 10_000): Promise<HubHost | null> {
  if (window.parent === window) return null;
  void SDK.init({ loaded: false, applyTheme: true });
  const ready = await Promise.race([SDK.ready().then(() => true), new Promise<boolean>((resolve) => setTimeout(() => resolve(false), timeoutMs))]);
  if (!ready) return null;
  const extensionId = SDK.getExtensionContext().id;
  const dataManager = async () => {
    const service = await SDK.getService<IExtensionDataService>(EXTENSION_DATA_SERVICE);
    return service.getExtensionDataManager(extensionId, await SDK.getAccessToken());
  };
  return {
    nodeType: 'AZURE_DEVOPS',
    words: wordsFor('AZURE_DEVOPS'),
    clipboard: { writeText: (text: string) => navigator.clipboard.writeText(text) },
    organization: SDK.getHost().name,
    userName: SDK.getUser().displayName,
    async loadSettings() {
      const value = await (await dataManager()).getValue<HubSettings | null>(SETTINGS_KEY, { defaultValue: null });
      return value && typeof value.nodeUrl === 'string' ? value : null;
    },
    async saveSettings(settings) {
      await (await dataManager()).setValue(SETTINGS_KEY, settings);
    },
    api(nodeUrl) {
      return new AdminApiClient({
        nodeUrl,
        // Asked for on every call: the host hands out a valid token and renews it before it expires.
        authorization: async () => `Bearer ${await SDK.getAppToken()}`,
        headers: async () => ({ [ACCESS_TOKEN_HEADER]: await SDK.getAccessToken() }),
      });
    },
    loaded() {
      void SDK.notifyLoadSucceeded();
    },
    failed(error) {
      void SDK.notifyLoadFailed(error);
    },
  };
}
