import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createLogger, MAX_ATTACHMENT_MB, startServer, type ExalateServer, type NodeConfig } from '@exalate/backend';
import { AdoSimulator, type InstalledExtension, type RunningSimulator } from '@exalate/simulators';
import { AdminApiClient } from '@exalate/wizard-core';
import { chromium, type Browser, type BrowserContext, type FrameLocator, type Page } from 'playwright-core';

export const ROOT = resolve(import.meta.dirname, '../../..');
export const MANIFEST = join(ROOT, 'vss-extension.json');
const BUILT_HUB = join(ROOT, 'dist/ado-hub/hub.html');
/** The extension's key and app id as the Marketplace would assign them; the nodes are set up with the same. */
export const EXTENSION_KEY = 'exalate-test-extension-key';
export const EXTENSION_APP_ID = '5f0c3b9e-2f4e-4c55-9b8e-3f1f6c1f2a77';
export const HUB = 'exalate-oss.exalate.exalate-hub';

/** Debian's Chromium (scripts/test-prerequisites.sh installs it), or CHROMIUM_PATH. */
export function chromiumPath(): string {
  const path = process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium';
  if (!existsSync(path)) throw new Error(`Chromium is not at ${path}. Install Debian's chromium (apt-get install chromium) or set CHROMIUM_PATH.`);
  return path;
}

export interface Organization {
  name: string;
  simulator: AdoSimulator;
  running: RunningSimulator;
  extension: InstalledExtension;
  /** The node that serves this organization. */
  nodeId: string;
  nodeUrl: string;
  settingsUrl: string;
}

export interface World {
  orgs: Record<string, Organization>;
  server: ExalateServer;
  browser: Browser;
  close(): Promise<void>;
}

/**
 * Azure DevOps organizations (one simulator each, with the built extension installed from the
 * repository's manifest), a node for each on one server, and Chromium. Each test file gets its
 * own, so tests never share state across files.
 */
export async function startWorld(orgs: Array<{ name: string; private?: boolean }>): Promise<World> {
  if (!existsSync(BUILT_HUB)) throw new Error(`The hub is not built (${BUILT_HUB} is missing). Run "npm run build:ado" first; "npm test" does.`);
  const started: Array<Omit<Organization, 'nodeUrl'> & { private: boolean }> = [];
  for (const o of orgs) {
    const simulator = new AdoSimulator({ seed: { organization: o.name, projects: [{ name: 'Development' }, { name: 'Operations', process: 'Basic' }] } });
    const extension = simulator.installExtension({ manifestPath: MANIFEST, contentDir: ROOT, secret: EXTENSION_KEY, appId: EXTENSION_APP_ID });
    const running = await simulator.listen();
    started.push({
      name: o.name,
      simulator,
      running,
      extension,
      nodeId: o.name,
      settingsUrl: `${running.url}/${o.name}/_settings/${HUB}`,
      private: !!o.private,
    });
  }
  const dataDir = mkdtempSync(join(tmpdir(), 'exalate-hub-test-'));
  const nodes: NodeConfig[] = started.map((o) => ({
    id: o.nodeId,
    tracker: { kind: 'azure-devops', url: `${o.running.url}/${o.name}`, secret: 'sync-pat', webhooks: false },
    private: o.private,
    modes: ['BASIC', 'VISUAL', 'SCRIPT'],
    adminToken: `admin-${o.name}-0123456789abcdef`,
    adoExtension: { secret: EXTENSION_KEY, audience: EXTENSION_APP_ID },
  }));
  const server = await startTestServer({ dataDir, schemaPrefix: 'hub_', nodes });
  const browser = await chromium.launch({ executablePath: chromiumPath(), args: ['--no-sandbox'] });
  const world: World = {
    orgs: Object.fromEntries(started.map((o) => [o.name, { ...o, nodeUrl: `${server.publicUrl}/nodes/${o.nodeId}` }])),
    server,
    browser,
    close: async () => {
      await browser.close();
      await server.close();
      for (const o of started) await o.running.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
  return world;
}

/** One server for the frontends' browser tests: loopback peers, short timers, quiet logs (EXALATE_TEST_LOG_LEVEL). */
export function startTestServer(o: { dataDir: string; schemaPrefix: string; nodes: NodeConfig[] }): Promise<ExalateServer> {
  return startServer(
    {
      host: '127.0.0.1',
      port: 0,
      publicUrl: null,
      dataDir: o.dataDir,
      databaseUrl: null,
      schemaPrefix: o.schemaPrefix,
      addressPolicy: { allowLoopback: true, allowedCidrs: [] },
      invitationTtlMs: 3_600_000,
      pollIntervalMs: 200,
      longPollMs: 1_000,
      peerTimeoutMs: 3_000,
      scanIntervalMs: 1_000,
      refreshIntervalMs: 5_000,
      retryBaseMs: 200,
      retryMaxMs: 2_000,
      staleInboxMs: 60_000,
      maintenanceIntervalMs: 60_000,
      maxAttachmentBytes: MAX_ATTACHMENT_MB * 1024 * 1024,
      nodes: o.nodes,
    },
    createLogger({ level: process.env['EXALATE_TEST_LOG_LEVEL'] ?? 'silent' }),
  );
}

/** Saves the node URL in the organization's extension data, as General settings does. */
export function seedNodeUrl(org: Organization): void {
  org.simulator.extensions.seedSetting(org.extension, 'exalate-settings', { nodeUrl: org.nodeUrl });
}

export interface HubPage {
  page: Page;
  context: BrowserContext;
  hub: FrameLocator;
  close(): Promise<void>;
}

/** Opens Organization settings → Exalate, and waits until the hub told the host it loaded. */
export async function openHub(
  world: World,
  org: Organization,
  o: { viewport?: { width: number; height: number }; deviceScaleFactor?: number } = {},
): Promise<HubPage> {
  const context = await world.browser.newContext({ viewport: o.viewport ?? { width: 1280, height: 800 }, deviceScaleFactor: o.deviceScaleFactor ?? 1 });
  await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: org.running.url });
  const page = await context.newPage();
  await page.goto(org.settingsUrl);
  // The host page marks the body when the hub calls notifyLoadSucceeded/notifyLoadFailed.
  await page.waitForFunction('document.body.dataset.hubLoaded !== undefined', undefined, { timeout: 20_000 });
  return { page, context, hub: page.frameLocator('#hub-frame'), close: () => context.close() };
}

/** Connects two organizations' nodes through the admin API (the hub tests of other screens start from here). */
export async function connectViaApi(from: Organization, to: Organization, names: { local: string; remote: string }): Promise<string> {
  const started = await adminClient(from).initiateConnection({
    destinationUrl: to.nodeUrl,
    mode: 'SCRIPT',
    localShortName: names.local,
    remoteShortName: names.remote,
    description: '',
    project: 'Development',
  });
  if (!started.ok) throw new Error(started.error.message);
  const accepted = await adminClient(to).acceptInvitation({ code: started.value.invitationCode, project: 'Operations' });
  if (!accepted.ok) throw new Error(accepted.error.message);
  return started.value.connection.id;
}

export function adminClient(org: Organization): AdminApiClient {
  return new AdminApiClient({ nodeUrl: org.nodeUrl, authorization: () => `Bearer admin-${org.name}-0123456789abcdef` });
}

/**
 * Closes the pages a test opened. With EXALATE_TEST_SCREENSHOTS=<dir>, first keeps a screenshot and
 * the accessibility tree of each, named after the test (for looking into a failure).
 */
export async function closePages(pages: HubPage[]): Promise<void> {
  const dir = process.env['EXALATE_TEST_SCREENSHOTS'];
  const name = (expect.getState().currentTestName ?? 'test').replace(/\W+/g, '-');
  for (const [i, p] of pages.splice(0).entries()) {
    if (dir) {
      await p.page.screenshot({ path: join(dir, `${name}-${i}.png`) });
      writeFileSync(join(dir, `${name}-${i}.aria.yaml`), await p.hub.locator('body').ariaSnapshot());
    }
    await p.close();
  }
}

/**
 * One world for a test file (started before its tests, closed after them), and `open`, which opens
 * an organization's hub and closes it after the test (keeping screenshots, see closePages).
 */
export function hubSuite(orgs: Array<{ name: string; private?: boolean }>, setup?: (world: World) => Promise<void>) {
  let current: World | undefined;
  const pages: HubPage[] = [];
  beforeAll(async () => {
    current = await startWorld(orgs);
    await setup?.(current);
  }, 60_000);
  afterAll(async () => {
    await current?.close();
  });
  afterEach(() => closePages(pages));
  const world = (): World => {
    if (!current) throw new Error('the world is not started yet');
    return current;
  };
  return {
    world,
    org: (name: string): Organization => world().orgs[name]!,
    async open(name: string, o: Parameters<typeof openHub>[2] = {}): Promise<HubPage> {
      const page = await openHub(world(), world().orgs[name]!, o);
      pages.push(page);
      return page;
    },
  };
}
