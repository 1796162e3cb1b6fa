// The world of the Jira page's browser tests: a Jira Data Center (simulator) with the Exalate app
// installed from the built jar and run by its own servlet, an Azure DevOps organization with the
// hub, a node for each on one server, and Chromium.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ExalateServer } from '@exalate/backend';
import { AdoSimulator, JiraSimulator, type RunningSimulator } from '@exalate/simulators';
import { AdminApiClient } from '@exalate/wizard-core';
import { chromium, type Browser, type FrameLocator, type Page } from 'playwright-core';
import { HARNESS_CLASSPATH, JAR } from '../../jira-app/build.mjs';
import { chromiumPath, EXTENSION_APP_ID, EXTENSION_KEY, HUB, MANIFEST, ROOT, startTestServer } from '../../ado-hub/test/support.js';

export interface JiraWorld {
  jira: JiraSimulator;
  jiraUrl: string;
  ado: AdoSimulator;
  adoUrl: string;
  server: ExalateServer;
  browser: Browser;
  /** `initech` is a private node (of a second Azure DevOps organization): it has no URL and polls. */
  node: (id: 'jira' | 'ado' | 'initech') => { url: string; admin: AdminApiClient };
  /** Organization settings → Exalate of the Azure DevOps organization. */
  hubUrl: string;
  /** Saves the ADO node's URL in the hub's settings, as its General settings do. */
  seedHubSettings(): void;
  close(): Promise<void>;
}

const ORG = 'acme-ado';

export async function startJiraWorld(): Promise<JiraWorld> {
  for (const built of [JAR, join(ROOT, 'dist/ado-hub/hub.html')]) {
    if (!existsSync(built)) throw new Error(`${built} is missing: run "npm run package:jira" and "npm run build:ado" first ("npm test" does).`);
  }
  // The browser first: without one, nothing else is started (and left running).
  const browser = await chromium.launch({ executablePath: chromiumPath(), args: ['--no-sandbox'] });
  const jira = new JiraSimulator({
    seed: {
      flavor: 'datacenter',
      projects: [
        { key: 'SUP', name: 'Support' },
        { key: 'ENG', name: 'Engineering' },
      ],
    },
  });
  const jiraRunning: RunningSimulator = await jira.listen();
  await jira.installApp({ jar: JAR, harnessClasspath: HARNESS_CLASSPATH, baseUrl: jiraRunning.url });
  const ado = new AdoSimulator({ seed: { organization: ORG, projects: [{ name: 'Development' }, { name: 'Operations', process: 'Basic' }] } });
  const extension = ado.installExtension({ manifestPath: MANIFEST, contentDir: ROOT, secret: EXTENSION_KEY, appId: EXTENSION_APP_ID });
  const adoRunning = await ado.listen();
  const initech = new AdoSimulator({ seed: { organization: 'initech', projects: [{ name: 'Operations', process: 'Basic' }] } });
  const initechRunning = await initech.listen();
  const dataDir = mkdtempSync(join(tmpdir(), 'exalate-jira-page-'));
  const server = await startTestServer({
    dataDir,
    schemaPrefix: 'jirapage_',
    nodes: [
      {
        id: 'jira',
        tracker: { kind: 'jira-datacenter', url: jiraRunning.url, secret: 'sync-pat', webhooks: false },
        private: false,
        modes: ['BASIC', 'VISUAL', 'SCRIPT'],
        adminToken: 'admin-jira-0123456789abcdef',
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
        id: 'initech',
        tracker: { kind: 'azure-devops', url: `${initechRunning.url}/initech`, secret: 'sync-pat', webhooks: false },
        private: true,
        modes: ['BASIC', 'VISUAL', 'SCRIPT'],
        adminToken: 'admin-initech-0123456789abcdef',
      },
    ],
  });
  const node = (id: 'jira' | 'ado' | 'initech') => {
    const url = `${server.publicUrl}/nodes/${id}`;
    return { url, admin: new AdminApiClient({ nodeUrl: url, authorization: () => `Bearer admin-${id}-0123456789abcdef` }) };
  };
  return {
    jira,
    jiraUrl: jiraRunning.url,
    ado,
    adoUrl: adoRunning.url,
    server,
    browser,
    node,
    hubUrl: `${adoRunning.url}/${ORG}/_settings/${HUB}`,
    seedHubSettings: () => ado.extensions.seedSetting(extension, 'exalate-settings', { nodeUrl: node('ado').url }),
    close: async () => {
      await browser.close();
      await server.close();
      await jira.close();
      await jiraRunning.close();
      await adoRunning.close();
      await initechRunning.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** Signs in to Jira through its login page and lands where `path` is. */
export async function signInToJira(world: JiraWorld, user: 'alice' | 'bob', path: string): Promise<Page> {
  const context = await world.browser.newContext({ viewport: { width: 1280, height: 800 } });
  await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: world.jiraUrl });
  const page = await context.newPage();
  await page.goto(`${world.jiraUrl}${path}`);
  await page.getByLabel('Username').fill(user);
  await page.getByLabel('Password').fill(`${user}-password`);
  await page.getByRole('button', { name: 'Log In' }).click();
  await page.waitForURL((u) => u.pathname === path.split('?')[0]);
  return page;
}

/** Opens Organization settings → Exalate in Azure DevOps, once the hub has loaded. */
export async function openHub(world: JiraWorld): Promise<{ page: Page; hub: FrameLocator }> {
  const context = await world.browser.newContext({ viewport: { width: 1280, height: 800 } });
  await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: world.adoUrl });
  const page = await context.newPage();
  await page.goto(world.hubUrl);
  await page.waitForFunction('document.body.dataset.hubLoaded !== undefined', undefined, { timeout: 20_000 });
  return { page, hub: page.frameLocator('#hub-frame') };
}

/** Pairs the app with the Jira node as an admin would: the operator's code, pasted in General settings. */
export async function pairInPage(world: JiraWorld, page: Page): Promise<void> {
  const issued = await world.node('jira').admin.issuePairingCode();
  if (!issued.ok) throw new Error(issued.error.message);
  await page.getByLabel(/Pairing code/).fill(issued.value.pairingCode);
  await page.getByRole('button', { name: 'Pair' }).click();
}
