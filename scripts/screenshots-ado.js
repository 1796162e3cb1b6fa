#!/usr/bin/env node
// `npm run screenshots:ado`: a picture of each screen of the Exalate hub, as Azure DevOps shows it in
// Organization settings, written to docs/screenshots/ (not committed) for a reviewer to look at.
// Two simulated organizations with the built extension installed, a node for each, Debian's Chromium.
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { createLogger, MAX_ATTACHMENT_MB, startServer } from '../packages/backend/dist/index.js';
import { AdoSimulator } from '../packages/simulators/dist/index.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const out = join(root, 'docs/screenshots');
const KEY = 'screenshots-extension-key';
const APP_ID = '1f2e3d4c-5b6a-4978-8a9b-0c1d2e3f4a5b';
mkdirSync(out, { recursive: true });

const orgs = [];
for (const name of ['acme', 'globex']) {
  const simulator = new AdoSimulator({ seed: { organization: name, projects: [{ name: 'Development' }, { name: 'Operations', process: 'Basic' }] } });
  const extension = simulator.installExtension({ manifestPath: join(root, 'vss-extension.json'), contentDir: root, secret: KEY, appId: APP_ID });
  const running = await simulator.listen();
  orgs.push({ name, simulator, extension, running });
}
const dataDir = mkdtempSync(join(tmpdir(), 'exalate-screenshots-'));
const server = await startServer(
  {
    host: '127.0.0.1',
    port: 0,
    publicUrl: null,
    dataDir,
    databaseUrl: null,
    schemaPrefix: 'shots_',
    addressPolicy: { allowLoopback: true, allowedCidrs: [] },
    invitationTtlMs: 86_400_000,
    pollIntervalMs: 500,
    longPollMs: 5_000,
    peerTimeoutMs: 5_000,
    scanIntervalMs: 1_000,
    refreshIntervalMs: 60_000,
    retryBaseMs: 500,
    retryMaxMs: 5_000,
    staleInboxMs: 60_000,
    maintenanceIntervalMs: 60_000,
    maxAttachmentBytes: MAX_ATTACHMENT_MB * 1024 * 1024,
    nodes: orgs.map((o) => ({
      id: o.name,
      private: false,
      modes: ['BASIC', 'VISUAL', 'SCRIPT'],
      adminToken: `admin-${o.name}-0123456789abcdef`,
      tracker: { kind: 'azure-devops', url: `${o.running.url}/${o.name}`, secret: 'sync-pat', webhooks: false },
      adoExtension: { secret: KEY, audience: APP_ID },
    })),
  },
  createLogger({ level: 'warn' }),
);
const nodeUrl = (o) => `${server.publicUrl}/nodes/${o.name}`;
const [acme, globex] = orgs;
globex.simulator.extensions.seedSetting(globex.extension, 'exalate-settings', { nodeUrl: nodeUrl(globex) });
acme.simulator.seedWorkItem({ project: 'Development', type: 'Bug', fields: { 'System.Title': 'Checkout is slow', 'System.Tags': 'sync' } });

const browser = await chromium.launch({ executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium', args: ['--no-sandbox'] });
const shots = [];
async function open(org, viewport = { width: 1280, height: 800 }, deviceScaleFactor = 1) {
  const context = await browser.newContext({ viewport, deviceScaleFactor });
  await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: org.running.url });
  const page = await context.newPage();
  await page.goto(`${org.running.url}/${org.name}/_settings/exalate-oss.exalate.exalate-hub`);
  await page.waitForFunction('document.body.dataset.hubLoaded !== undefined');
  return { page, hub: page.frameLocator('#hub-frame'), close: () => context.close() };
}
async function chooseProject(hub, name) {
  await hub.getByRole('button', { name: /^Please select the project where you want to create/ }).click();
  await hub.getByRole('option', { name }).click();
}
async function shot(page, name) {
  const path = join(out, `ado-hub-${String(shots.length + 1).padStart(2, '0')}-${name}.png`);
  await page.waitForTimeout(300);
  await page.screenshot({ path });
  shots.push(path);
}

try {
  // General settings on first open, then the empty connection list.
  const a = await open(acme);
  await a.hub.getByLabel('Exalate node URL').waitFor();
  await shot(a.page, 'general-settings-first-open');
  await a.hub.getByLabel('Exalate node URL').fill(nodeUrl(acme));
  await a.hub.getByRole('button', { name: 'Save' }).click();
  await a.hub.getByText('Settings saved').waitFor();
  await shot(a.page, 'general-settings-saved');
  await a.hub.getByRole('tab', { name: 'Connections' }).click();
  await a.hub.getByRole('heading', { name: 'Connections' }).waitFor();
  await shot(a.page, 'connections-empty');

  // Initiate connection, each step.
  await a.hub.getByRole('button', { name: 'Initiate connection' }).click();
  await a.hub.getByLabel('Destination instance URL').fill(nodeUrl(globex));
  await a.hub.getByRole('radio', { name: /^Script/ }).click();
  await a.hub.getByTestId('destination-found').waitFor();
  await shot(a.page, 'initiate-destination-and-type');
  await a.hub.getByRole('button', { name: 'Next' }).click();
  await a.hub.getByLabel('Local instance short name').fill('Acme');
  await a.hub.getByLabel('Remote instance short name').fill('Globex');
  await a.hub.getByLabel('Description').fill('Escalations from Acme support to Globex engineering');
  await shot(a.page, 'initiate-details');
  await a.hub.getByRole('button', { name: 'Next' }).click();
  await chooseProject(a.hub, 'Development');
  await shot(a.page, 'initiate-project');
  await a.hub.getByRole('button', { name: 'Initiate', exact: true }).click();
  await a.hub.getByRole('button', { name: 'Copy invitation code', exact: true }).click();
  await a.hub.getByText('Invitation code copied').waitFor();
  await shot(a.page, 'initiate-invitation-code');
  const code = await a.hub.getByLabel('Use the following invitation code:').inputValue();
  await a.hub.getByRole('button', { name: 'Done' }).click();
  await a.hub.getByRole('table', { name: 'Connections' }).waitFor();
  await shot(a.page, 'connections-pending');

  // Accept invitation in the second organization, each step.
  const g = await open(globex);
  await g.hub.getByRole('button', { name: 'Accept invitation' }).click();
  await g.hub.getByPlaceholder('Enter the invitation code').fill('not a code');
  await g.hub.getByRole('button', { name: 'Next' }).click();
  await g.hub.getByText(/INVITATION_CODE_NOT_RECOGNIZED/).waitFor();
  await shot(g.page, 'accept-bad-code');
  await g.hub.getByPlaceholder('Enter the invitation code').fill(code);
  await g.hub.getByRole('button', { name: 'Next' }).click();
  await g.hub.getByTestId('invitation-preview').waitFor();
  await chooseProject(g.hub, 'Operations');
  await shot(g.page, 'accept-preview-and-project');
  await g.hub.getByRole('button', { name: 'Confirm' }).click();
  await g.hub.getByRole('heading', { name: 'Congratulations!' }).waitFor();
  await shot(g.page, 'accept-established');
  await g.close();

  // Configure sync with a trigger, its preview and a bulk sync.
  await a.hub.locator('tr[data-connection="Acme_to_Globex"] [data-testid="status"]').getByText('Active').waitFor();
  await shot(a.page, 'connections-active');
  await a.hub.getByRole('button', { name: 'Configure: Acme_to_Globex' }).click();
  await a.hub.getByRole('textbox', { name: 'Outgoing sync' }).waitFor();
  await shot(a.page, 'configure-sync-rules');
  await a.hub.getByRole('button', { name: 'Add trigger' }).click();
  await a.hub.getByRole('button', { name: 'Work item type' }).click();
  await a.hub.getByRole('option', { name: 'Bug', exact: true }).click();
  await a.hub.getByLabel('Query (WIQL condition)').fill("[System.Tags] CONTAINS 'sync'");
  await a.hub.getByRole('button', { name: 'Preview matching work items' }).click();
  await a.hub.getByTestId('trigger-preview').scrollIntoViewIfNeeded();
  await shot(a.page, 'configure-sync-trigger-preview');
  await a.hub.getByRole('button', { name: 'Save trigger' }).click();
  await a.hub.getByRole('button', { name: /^Bulk sync what trigger/ }).click();
  await a.hub.getByText(/Bulk sync: 1 of 1 done/).waitFor({ timeout: 30_000 });
  await a.hub.getByTestId('queue-counts').scrollIntoViewIfNeeded();
  await shot(a.page, 'configure-sync-queue');
  await a.close();

  // General settings with the token section, and the list at 200% zoom.
  const s = await open(acme);
  await s.hub.getByRole('tab', { name: 'General settings' }).click();
  await s.hub.getByTestId('token-source').waitFor();
  await shot(s.page, 'general-settings');
  await s.close();
  const z = await open(acme, { width: 640, height: 400 }, 2);
  await z.hub.getByRole('table', { name: 'Connections' }).waitFor();
  await shot(z.page, 'connections-zoom-200');
  await z.close();
  console.log(`Wrote ${shots.length} screenshots to ${out}:`);
  for (const p of shots) console.log(`  ${p}`);
} finally {
  await browser.close();
  await server.close();
  for (const o of orgs) await o.running.close();
  rmSync(dataDir, { recursive: true, force: true });
}
