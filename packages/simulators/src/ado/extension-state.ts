// What the simulated organization keeps about web extensions: the installed ones (manifest,
// files, key) and their extension data documents. Part of the organization's state (state.ts);
// extension-host.ts serves it.

export interface ExtensionManifest {
  publisher: string;
  id: string;
  version: string;
  name: string;
  scopes?: string[];
  baseUri?: string;
  files?: Array<{ path: string; addressable?: boolean }>;
  contributions?: Array<{ id: string; type: string; targets?: string[]; properties?: Record<string, unknown> }>;
}

export interface InstalledExtension {
  manifest: ExtensionManifest;
  /** Where the packaged files (the manifest's `files`) are, relative paths from the manifest. */
  contentDir: string;
  /** The extension's key: app tokens are HS256 with it. */
  secret: string;
  /** The `aud` of its app tokens (the service's id for the extension). */
  appId: string;
}

/** One stored extension data document (Default or User scope). */
export interface ExtensionDocument {
  id: string;
  __etag: number;
  [key: string]: unknown;
}

export interface ExtensionHostState {
  extensions: InstalledExtension[];
  /** `{publisher}.{extension}/{scopeType}/{scopeValue}/{collection}` → documents by id. */
  documents: Record<string, Record<string, ExtensionDocument>>;
}
