// The world of the ServiceNow page's browser tests: two ServiceNow instances (simulator) with the
// Exalate application committed from the built update set (`acme`, its node public; `globex`, its
// node private, as in the sandbox), a Jira Data Center with the Exalate app from its jar, an Azure
// DevOps organization with the hub, a node for each on one server, and Chromium.
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ExalateServer } from '@exalate/backend';
import { AdoSimulator, JiraSimulator, ServiceNowSimulator, type RunningSimulator } from '@exalate/simulators';
import { AdminApiClient } from '@exalate/wizard-core';
import { chromium, type Browser, type FrameLocator, type Page } from 'playwright-core';
import { HARNESS_CLASSPATH, JAR } from '../../jira-app/build.mjs';
import { chromiumPath, EXTENSION_APP_ID, EXTENSION_KEY, HUB, MANIFEST, ROOT, startTestServer } from '../../ado-hub/test/support.js';
import { UPDATE_SET } from '../build.mjs';

export type NodeId = 'snow' | 'globex' | 'ado' | 'jira';

export interface ServiceNowWorld {
  acme: ServiceNowSimulator;
  acmeUrl: string;
  globex: ServiceNowSimulator;
  globexUrl: string;
  ado: AdoSimulator;
  adoUrl: string;
  jira: JiraSimulator;
  jiraUrl: string;
  server: ExalateServer;
  browser: Browser;
  node: (id: NodeId) => { url: string; admin: AdminApiClient };
  hubUrl: string;
  seedHubSettings(): void;
  close(): Promise<void>;
}

const ORG = 'acme-ado';

export async function startServiceNowWorld(): Promise<ServiceNowWorld> {
  for (const built of [UPDATE_SET, JAR, join(ROOT, 'dist/ado-hub/hub.html')]) {
    if (!existsSync(built))
      throw new Error(`${built} is missing: run "npm run package:servicenow", "npm run package:jira" and "npm run build:ado" first ("npm test" does).`);
  }
  const browser = await chromium.launch({ executablePath: chromiumPath(), args: ['--no-sandbox'] });
  const updateSet = readFileSync(UPDATE_SET, 'utf8');
  const acme = new ServiceNowSimulator();
  acme.installApp(updateSet);
  const acmeRunning: RunningSimulator = await acme.listen();
  const globex = new ServiceNowSimulator();
  globex.state.instanceName = 'globex';
  globex.installApp(updateSet);
  const globexRunning: RunningSimulator = await globex.listen();
  const jira = new JiraSimulator({ seed: { flavor: 'datacenter', projects: [{ key: 'SUP', name: 'Support' }] } });
  const jiraRunning = await jira.listen();
  await jira.installApp({ jar: JAR, harnessClasspath: HARNESS_CLASSPATH, baseUrl: jiraRunning.url });
  const ado = new AdoSimulator({ seed: { organization: ORG, projects: [{ name: 'Development' }] } });
  const extension = ado.installExtension({ manifestPath: MANIFEST, contentDir: ROOT, secret: EXTENSION_KEY, appId: EXTENSION_APP_ID });
  const adoRunning = await ado.listen();
  const dataDir = mkdtempSync(join(tmpdir(), 'exalate-servicenow-page-'));
  const server = await startTestServer({
    dataDir,
    schemaPrefix: 'snpage_',
    nodes: [
      {
        id: 'snow',
        tracker: { kind: 'servicenow', url: acmeRunning.url, user: 'exalate', secret: 'exalate-password' },
        private: false,
        modes: ['BASIC', 'VISUAL', 'SCRIPT'],
        adminToken: 'admin-snow-0123456789abcdef',
      },
      {
        id: 'globex',
        tracker: { kind: 'servicenow', url: globexRunning.url, user: 'exalate', secret: 'exalate-password' },
        private: true,
        modes: ['BASIC', 'VISUAL', 'SCRIPT'],
        adminToken: 'admin-globex-0123456789abcdef',
      },
      {
        id: 'ado',
        tracker: { kind: 'azure-devops', url: `${adoRunning.url}/${ORG}`, secret: 'sync-pat', webhooks: false },
        private: false,
        modes: ['BASIC', 'VISUAL', 'SCRIPT'],
        adminToken: 'admin-ado-0123456789abcdef',
        adoExtension: { secret: EXTENSION_KEY, audience: EXTENSION_APP_ID },
      },
      {
        id: 'jira',
        tracker: { kind: 'jira-datacenter', url: jiraRunning.url, secret: 'sync-pat', webhooks: false },
        private: false,
        modes: ['BASIC', 'VISUAL', 'SCRIPT'],
        adminToken: 'admin-jira-0123456789abcdef',
      },
    ],
  });
  const node = (id: NodeId) => {
    const url = `${server.publicUrl}/nodes/${id}`;
    return { url, admin: new AdminApiClient({ nodeUrl: url, authorization: () => `Bearer admin-${id}-0123456789abcdef` }) };
  };
  return {
    acme,
    acmeUrl: acmeRunning.url,
    globex,
    globexUrl: globexRunning.url,
    ado,
    adoUrl: adoRunning.url,
    jira,
    jiraUrl: jiraRunning.url,
    server,
    browser,
    node,
    hubUrl: `${adoRunning.url}/${ORG}/_settings/${HUB}`,
    seedHubSettings: () => ado.extensions.seedSetting(extension, 'exalate-settings', { nodeUrl: node('ado').url }),
    close: async () => {
      await browser.close();
      await server.close();
      await jira.close();
      for (const r of [acmeRunning, globexRunning, jiraRunning, adoRunning]) await r.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** Signs in to an instance through its login page and lands on its home, in a window of its own. */
export async function signInToServiceNow(
  world: ServiceNowWorld,
  instanceUrl: string,
  user: 'admin' | 'bob',
  o: { viewport?: { width: number; height: number }; deviceScaleFactor?: number } = {},
): Promise<Page> {
  const context = await world.browser.newContext({
    viewport: o.viewport ?? { width: 1280, height: 800 },
    ...(o.deviceScaleFactor ? { deviceScaleFactor: o.deviceScaleFactor } : {}),
  });
  await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: instanceUrl });
  const page = await context.newPage();
  await page.goto(`${instanceUrl}/now/nav/ui/home`);
  await page.getByLabel('User name').fill(user);
  await page.getByLabel('Password').fill(`${user}-password`);
  await page.getByRole('button', { name: 'Log in' }).click();
  await page.waitForURL((u) => u.pathname === '/now/nav/ui/home');
  return page;
}

/** All → filter → Exalate → a module: the Exalate page in the content frame. */
export async function openModule(page: Page, module: 'Connections' | 'Sync queue' | 'Settings'): Promise<FrameLocator> {
  await page.getByLabel('Filter navigator').fill('Exalate');
  await page.getByRole('navigation', { name: 'All menu' }).getByRole('link', { name: module }).click();
  const frame = page.frameLocator('#gsft_main');
  await frame.locator('#exalate-root h1').first().waitFor({ timeout: 20_000 });
  return frame;
}

/** Pairs an instance's application with its node as an admin would: the operator's code, pasted in Settings. */
export async function pairInSettings(world: ServiceNowWorld, frame: FrameLocator, node: NodeId): Promise<void> {
  const issued = await world.node(node).admin.issuePairingCode();
  if (!issued.ok) throw new Error(issued.error.message);
  await frame.getByLabel(/pairing code/i).fill(issued.value.pairingCode);
  await frame.getByRole('button', { name: 'Pair' }).click();
  await frame
    .getByRole('status')
    .getByText(/^Paired with the Exalate node/)
    .waitFor();
}

/** Opens Organization settings → Exalate in Azure DevOps, once the hub has loaded. */
export async function openHub(world: ServiceNowWorld): Promise<{ page: Page; hub: FrameLocator }> {
  const context = await world.browser.newContext({ viewport: { width: 1280, height: 800 } });
  await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: world.adoUrl });
  const page = await context.newPage();
  await page.goto(world.hubUrl);
  await page.waitForFunction('document.body.dataset.hubLoaded !== undefined', undefined, { timeout: 20_000 });
  return { page, hub: page.frameLocator('#hub-frame') };
}
