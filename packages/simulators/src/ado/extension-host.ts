import { randomUUID } from 'node:crypto';
import { existsSync, readFileSync, realpathSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, posix, resolve, sep } from 'node:path';
import express, { type Request, type Response, type Router } from 'express';
import { SignJWT } from 'jose';
import type { ExtensionDocument, ExtensionHostState, ExtensionManifest, InstalledExtension } from './extension-state.js';
import type { AdoIdentity, AdoState } from './state.js';

/**
 * Web extensions in the Azure DevOps simulator: an installed extension's files, the
 * Organization settings page that frames its admin hubs, the host side of the SDK's handshake,
 * the tokens the SDK hands out, and the extension data service.
 * https://learn.microsoft.com/azure/devops/extend/develop/manifest
 */

/** The hub group of Organization settings (Extensions section). */
export const COLLECTION_ADMIN_HUB_GROUP = 'ms.vss-web.collection-admin-hub-group';
/** The issuer the service puts in app tokens. */
export const APP_TOKEN_ISSUER = 'app.vstoken.visualstudio.com';

const requireHere = createRequire(import.meta.url);
/** The SDK's own cross-frame messaging, which the host page uses for its side of the channel. */
const XDM_SOURCE = join(dirname(requireHere.resolve('azure-devops-extension-sdk')), 'esm', 'XDM.js');

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

export class ExtensionHost {
  constructor(
    private readonly state: () => AdoState,
    readonly host: ExtensionHostState,
  ) {}

  install(o: { manifestPath: string; contentDir?: string; secret: string; appId?: string; overrides?: Partial<ExtensionManifest> }): InstalledExtension {
    const manifest = { ...(JSON.parse(readFileSync(o.manifestPath, 'utf8')) as ExtensionManifest), ...o.overrides };
    const installed: InstalledExtension = {
      manifest,
      contentDir: resolve(o.contentDir ?? dirname(o.manifestPath)),
      secret: o.secret,
      appId: o.appId ?? randomUUID(),
    };
    this.host.extensions = this.host.extensions.filter((e) => !(e.manifest.publisher === manifest.publisher && e.manifest.id === manifest.id));
    this.host.extensions.push(installed);
    return installed;
  }

  private find(publisher: string, extension: string): InstalledExtension | undefined {
    return this.host.extensions.find(
      (e) => e.manifest.publisher.toLowerCase() === publisher.toLowerCase() && e.manifest.id.toLowerCase() === extension.toLowerCase(),
    );
  }

  /** The signed-in user of the settings page: the organization's owner, or the one named (a unique name, `?user=`). */
  private signedIn(uniqueName: string | null): AdoIdentity | undefined {
    const all = this.state().identities;
    return uniqueName ? all.find((i) => i.uniqueName.toLowerCase() === uniqueName.toLowerCase()) : all[0];
  }

  /** Pages and files: mounted before the REST API's authentication (the real ones sit behind the sign-in cookie). */
  pages(): Router {
    const r = express.Router({ caseSensitive: false });
    const org = () => this.state().organization;

    r.get('/_shell/XDM.js', (_req, res) => {
      res.type('text/javascript').send(readFileSync(XDM_SOURCE, 'utf8'));
    });
    r.get('/_shell/host.js', (_req, res) => {
      res.type('text/javascript').send(HOST_SCRIPT);
    });

    // The packaged files, served as the Marketplace CDN would: only what the manifest lists.
    r.get('/_extensions/:publisher.:extension/*path', (req, res) => {
      const ext = this.find(String(req.params['publisher']), String(req.params['extension']));
      // Normalized first, so "dist/x/../../secret" is judged as the "secret" it names.
      const path = posix.normalize(([] as string[]).concat(req.params['path'] as unknown as string[]).join('/'));
      const listed = ext?.manifest.files?.some((f) => path === f.path || path.startsWith(f.path.replace(/\/?$/, '/')));
      if (!ext || !listed) return res.status(404).type('text/plain').send('Not found: the extension has no such file.');
      const file = resolve(ext.contentDir, path);
      const root = realpathSync(ext.contentDir);
      if (!existsSync(file) || !realpathSync(file).startsWith(root + sep)) return res.status(404).type('text/plain').send('Not found.');
      res.sendFile(realpathSync(file));
    });

    // Organization settings → a hub contributed to the collection admin hub group.
    r.get('/:organization/_settings/:contribution', (req, res) => {
      if (String(req.params['organization']).toLowerCase() !== org().toLowerCase())
        return res
          .status(404)
          .type('text/html')
          .send(page(org(), 'Not found', '<p>There is no such organization on this server.</p>'));
      const [publisher = '', extension = '', ...rest] = String(req.params['contribution']).split('.');
      const hubId = rest.join('.');
      const ext = this.find(publisher, extension);
      const hub = ext?.manifest.contributions?.find((c) => c.id === hubId && c.targets?.includes(COLLECTION_ADMIN_HUB_GROUP));
      if (!ext || !hub) {
        return res
          .status(404)
          .type('text/html')
          .send(
            page(
              org(),
              'Organization settings',
              `<p role="alert">No installed extension contributes the hub <code>${escapeHtml(String(req.params['contribution']))}</code> to Organization settings.</p>`,
            ),
          );
      }
      const userQuery = typeof req.query['user'] === 'string' ? req.query['user'] : null;
      const user = this.signedIn(userQuery);
      if (!user)
        return res
          .status(404)
          .type('text/html')
          .send(page(org(), 'Organization settings', `<p role="alert">There is no user ${escapeHtml(userQuery ?? '')} in this organization.</p>`));
      const uri = String(hub.properties?.['uri'] ?? '');
      const base = ext.manifest.baseUri ?? `/_extensions/${ext.manifest.publisher}.${ext.manifest.id}`;
      const frameSrc = /^https?:\/\//.test(uri) ? uri : `${base.replace(/\/$/, '')}/${uri}`;
      const frameOrigin = new URL(frameSrc, `${req.protocol}://${req.get('host')}`).origin;
      const config = {
        organization: org(),
        collectionId: this.state().collectionId,
        contributionId: `${ext.manifest.publisher}.${ext.manifest.id}.${hub.id}`,
        extension: {
          id: `${ext.manifest.publisher}.${ext.manifest.id}`,
          publisherId: ext.manifest.publisher,
          extensionId: ext.manifest.id,
          version: ext.manifest.version,
        },
        user: {
          id: user.id,
          name: user.uniqueName,
          displayName: user.displayName,
          descriptor: `aad.${Buffer.from(user.id).toString('base64url')}`,
          imageUrl: '',
        },
        userQuery,
        frameSrc,
        frameOrigin,
      };
      const hubs = this.host.extensions.flatMap((e) =>
        (e.manifest.contributions ?? [])
          .filter((c) => c.targets?.includes(COLLECTION_ADMIN_HUB_GROUP))
          .map((c) => ({ id: `${e.manifest.publisher}.${e.manifest.id}.${c.id}`, name: String(c.properties?.['name'] ?? c.id) })),
      );
      const nav = hubs
        .map(
          (h) =>
            `<li><a href="/${escapeHtml(org())}/_settings/${escapeHtml(h.id)}"${h.id === config.contributionId ? ' aria-current="page"' : ''}>${escapeHtml(h.name)}</a></li>`,
        )
        .join('');
      const body = `
<nav aria-label="Organization settings"><h2>Organization settings</h2>
  <h3>General</h3><ul><li><span>Overview</span></li><li><span>Projects</span></li><li><span>Users</span></li></ul>
  <h3>Extensions</h3><ul>${nav}</ul></nav>
<main><iframe id="hub-frame" title="${escapeHtml(String(hub.properties?.['name'] ?? hub.id))}"></iframe>
  <p id="hub-status" role="status"></p></main>
<script type="application/json" id="shell-config">${JSON.stringify(config).replace(/</g, '\\u003c')}</script>
<script type="module" src="/_shell/host.js"></script>`;
      res.type('text/html').send(page(org(), String(hub.properties?.['name'] ?? 'Organization settings'), body));
    });

    // The tokens the SDK hands the extension. The real service mints them for the signed-in session.
    r.post('/:organization/_shell/tokens', express.json(), async (req, res) => {
      if (String(req.params['organization']).toLowerCase() !== org().toLowerCase())
        return res.status(404).json({ message: 'There is no such organization on this server.' });
      const body = req.body as { extension?: string; user?: string | null };
      const [publisher = '', extension = ''] = String(body.extension ?? '').split('.');
      const ext = this.find(publisher, extension);
      if (!ext) return res.status(404).json({ message: 'The extension is not installed.' });
      const user = this.signedIn(body.user ? String(body.user) : null);
      if (!user) return res.status(404).json({ message: 'No such user.' });
      res.json(await this.issueTokens(ext, user));
    });
    return r;
  }

  /** An app token signed with the extension's key, and an access token for the organization's REST API. */
  async issueTokens(ext: InstalledExtension, user: AdoIdentity, lifetimeSeconds = 70 * 60): Promise<{ appToken: string; accessToken: string }> {
    const now = Math.floor(Date.now() / 1000);
    const appToken = await new SignJWT({ nameid: user.id, tid: this.state().collectionId })
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .setJti(randomUUID())
      .setIssuer(APP_TOKEN_ISSUER)
      .setAudience(ext.appId)
      .setNotBefore(now - 5)
      .setExpirationTime(now + lifetimeSeconds)
      .sign(new TextEncoder().encode(ext.secret));
    const accessToken = `ado-access-${randomUUID()}`;
    this.state().tokens[accessToken] = user.id;
    return { appToken, accessToken };
  }

  /** Stores an organization-wide setting of an extension, as its `setValue` would (for seeding tests and demos). */
  seedSetting(ext: InstalledExtension, key: string, value: unknown): void {
    const id = `${ext.manifest.publisher.toLowerCase()}.${ext.manifest.id.toLowerCase()}/default/current/$settings`;
    const docs = (this.host.documents[id] ??= {});
    docs[key] = { id: key, __etag: (docs[key]?.__etag ?? 0) + 1, value };
  }

  /**
   * Extension data: per-extension documents in collections, at organization (Default/Current) or
   * user (User/Me) scope. https://learn.microsoft.com/azure/devops/extend/develop/data-storage
   */
  dataApi(r: Router, who: (req: Request) => AdoIdentity): void {
    const path = '/_apis/ExtensionManagement/InstalledExtensions/:publisher/:extension/Data/Scopes/:scopeType/:scopeValue/Collections/:collection/Documents';
    const collection = (req: Request): Record<string, ExtensionDocument> => {
      const p = req.params as Record<string, string>;
      if (!this.find(p['publisher']!, p['extension']!))
        throw Object.assign(new Error(`The extension ${p['publisher']}.${p['extension']} is not installed in this organization.`), { status: 404 });
      const scopeValue = p['scopeType']!.toLowerCase() === 'user' ? who(req).id : 'current';
      const key = `${p['publisher']!.toLowerCase()}.${p['extension']!.toLowerCase()}/${p['scopeType']!.toLowerCase()}/${scopeValue}/${p['collection']}`;
      return (this.host.documents[key] ??= {});
    };
    const fail = (res: Response, error: unknown) => {
      const status = (error as { status?: number }).status ?? 500;
      res.status(status).json({
        $id: '1',
        innerException: null,
        message: (error as Error).message,
        typeKey: status === 404 ? 'DocumentDoesNotExistException' : 'InvalidDocumentVersionException',
        errorCode: 0,
        eventId: 3000,
      });
    };
    r.get(`${path}/:documentId`, (req, res) => {
      try {
        const doc = collection(req)[String(req.params['documentId'])];
        if (!doc) throw Object.assign(new Error('The document does not exist.'), { status: 404 });
        res.json(doc);
      } catch (error) {
        fail(res, error);
      }
    });
    r.get(path, (req, res) => {
      try {
        res.json({ count: Object.keys(collection(req)).length, value: Object.values(collection(req)) });
      } catch (error) {
        fail(res, error);
      }
    });
    const write = (mode: 'create' | 'set' | 'update') => (req: Request, res: Response) => {
      try {
        const docs = collection(req);
        const doc = (req.body ?? {}) as Partial<ExtensionDocument>;
        const id = String(doc.id ?? randomUUID());
        const existing = docs[id];
        if (mode === 'create' && existing) throw Object.assign(new Error('The document already exists.'), { status: 409 });
        if (mode === 'update' && !existing) throw Object.assign(new Error('The document does not exist.'), { status: 404 });
        // -1 skips the check (setValue sends it); any other etag must match what is stored.
        if (existing && doc.__etag !== undefined && doc.__etag !== -1 && doc.__etag !== existing.__etag) {
          throw Object.assign(new Error('The document has been changed by someone else. Read it again and retry.'), { status: 409 });
        }
        const stored: ExtensionDocument = { ...doc, id, __etag: (existing?.__etag ?? 0) + 1 };
        docs[id] = stored;
        res.json(stored);
      } catch (error) {
        fail(res, error);
      }
    };
    const json = express.json();
    r.post(path, json, write('create'));
    r.put(path, json, write('set'));
    r.patch(path, json, write('update'));
    r.delete(`${path}/:documentId`, (req, res) => {
      try {
        delete collection(req)[String(req.params['documentId'])];
        res.status(204).end();
      } catch (error) {
        fail(res, error);
      }
    });
  }
}

function page(organization: string, title: string, body: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)} - Organization settings - ${escapeHtml(organization)}</title>
<style>
  html, body { margin: 0; height: 100%; font-family: "Segoe UI", system-ui, sans-serif; font-size: 14px; color: #201f1e; }
  body { display: grid; grid-template-rows: auto 1fr; }
  header { background: #0078d4; color: #fff; padding: 8px 16px; }
  header a { color: #fff; }
  .layout { display: grid; grid-template-columns: minmax(160px, 240px) 1fr; min-height: 0; }
  nav { background: #f3f2f1; padding: 8px 12px; overflow: auto; }
  nav h2 { font-size: 16px; } nav h3 { font-size: 12px; text-transform: uppercase; color: #605e5c; }
  nav ul { list-style: none; padding: 0; } nav li { padding: 4px 0; }
  nav a[aria-current="page"] { font-weight: 600; }
  main { display: flex; flex-direction: column; min-width: 0; min-height: 0; }
  iframe { flex: 1; border: 0; width: 100%; min-height: 0; }
  #hub-status:empty { display: none; }
  @media (max-width: 800px) { .layout { grid-template-columns: 1fr; grid-template-rows: auto 1fr; } nav { max-height: 4.5rem; } }
</style></head>
<body><header><strong>Azure DevOps</strong> › <a href="/${escapeHtml(organization)}">${escapeHtml(organization)}</a> › Organization settings</header>
<div class="layout">${body}</div></body></html>`;
}

/**
 * The host side of the SDK channel (DevOps.HostControl and DevOps.ServiceManager), as the
 * service's page answers it: the handshake with the page context, the tokens, load notices, and
 * the extension data service, whose managers call the organization's REST API.
 */
const HOST_SCRIPT = `
import { channelManager, globalObjectRegistry } from './XDM.js';
const config = JSON.parse(document.getElementById('shell-config').textContent);
const frame = document.getElementById('hub-frame');
const status = document.getElementById('hub-status');
const channel = channelManager.addChannel(frame.contentWindow, config.frameOrigin);
let tokens = null;
async function getTokens() {
  if (!tokens) {
    const res = await fetch('/' + config.organization + '/_shell/tokens', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ extension: config.extension.id, user: config.userQuery }) });
    if (!res.ok) throw new Error('The service did not issue tokens: HTTP ' + res.status);
    tokens = await res.json();
  }
  return tokens;
}
const api = (path) => '/' + config.organization + '/_apis/ExtensionManagement/InstalledExtensions/' + config.extension.publisherId + '/' + config.extension.extensionId + '/Data/Scopes/' + path;
function dataManager(accessToken) {
  const scope = (o) => (o && o.scopeType === 'User' ? 'User/Me' : 'Default/Current');
  const call = async (method, url, body) => {
    const res = await fetch(url + (url.includes('?') ? '&' : '?') + 'api-version=7.1-preview.1', { method, headers: { authorization: 'Bearer ' + accessToken, 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
    if (res.status === 404 && method === 'GET') return undefined;
    if (!res.ok) { const e = await res.json().catch(() => ({})); throw new Error(e.message || ('HTTP ' + res.status)); }
    return res.status === 204 ? undefined : res.json();
  };
  return {
    async getValue(key, o) { const d = await call('GET', api(scope(o) + '/Collections/$settings/Documents/' + encodeURIComponent(key))); return d === undefined ? (o ? o.defaultValue : undefined) : d.value; },
    async setValue(key, value, o) { await call('PUT', api(scope(o) + '/Collections/$settings/Documents'), { id: key, __etag: -1, value }); return value; },
    getDocument(c, id, o) { return call('GET', api(scope(o) + '/Collections/' + encodeURIComponent(c) + '/Documents/' + encodeURIComponent(id))); },
    async getDocuments(c, o) { const r = await call('GET', api(scope(o) + '/Collections/' + encodeURIComponent(c) + '/Documents')); return r ? r.value : []; },
    createDocument(c, doc, o) { return call('POST', api(scope(o) + '/Collections/' + encodeURIComponent(c) + '/Documents'), doc); },
    setDocument(c, doc, o) { return call('PUT', api(scope(o) + '/Collections/' + encodeURIComponent(c) + '/Documents'), doc); },
    updateDocument(c, doc, o) { return call('PATCH', api(scope(o) + '/Collections/' + encodeURIComponent(c) + '/Documents'), doc); },
    deleteDocument(c, id, o) { return call('DELETE', api(scope(o) + '/Collections/' + encodeURIComponent(c) + '/Documents/' + encodeURIComponent(id))); },
  };
}
globalObjectRegistry.register('DevOps.HostControl', {
  initialHandshake(options) {
    document.body.dataset.sdkVersion = String(options && options.sdkVersion);
    return {
      contributionId: config.contributionId,
      initialConfig: {},
      context: {
        extension: config.extension,
        user: config.user,
        host: { id: config.collectionId, name: config.organization, serviceVersion: 'simulator', type: 4, isHosted: true },
      },
      themeData: { 'background-color': 'rgba(255, 255, 255, 1)', 'text-primary-color': 'rgba(0, 0, 0, .9)', 'communication-background': 'rgba(0, 120, 212, 1)' },
    };
  },
  notifyLoadSucceeded() { document.body.dataset.hubLoaded = 'true'; },
  notifyLoadFailed(e) { document.body.dataset.hubLoaded = 'false'; status.textContent = 'The extension failed to load: ' + (e && e.message ? e.message : String(e)); },
  async getAccessToken() { return { token: (await getTokens()).accessToken }; },
  async getAppToken() { return { token: (await getTokens()).appToken }; },
  resize() {},
});
globalObjectRegistry.register('DevOps.ServiceManager', {
  getService(contributionId) {
    if (contributionId === 'ms.vss-features.extension-data-service') {
      return { getExtensionDataManager(extensionId, accessToken) { return dataManager(accessToken); } };
    }
    throw new Error('The simulator does not provide the service ' + contributionId);
  },
});
// Like Azure DevOps, the frame gets its page only now that this side listens: an SDK.init sent
// before the channel existed would be lost, and the hub would never load.
frame.src = config.frameSrc;
`;
