#!/usr/bin/env node
// `npm run screenshots:servicenow`: a picture of each screen of the Exalate application in
// ServiceNow (All → Exalate), as the simulated instance serves it from the committed update set,
// written to docs/screenshots/servicenow-*.png (not committed) for a reviewer to look at. A
// ServiceNow instance and an Azure DevOps organization, a node for each, Debian's Chromium.
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { createLogger, MAX_ATTACHMENT_MB, startServer } from '../packages/backend/dist/index.js';
import { AdoSimulator, ServiceNowSimulator } from '../packages/simulators/dist/index.js';
import { UPDATE_SET } from '../packages/servicenow-app/build.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const out = join(root, 'docs/screenshots');
mkdirSync(out, { recursive: true });

const snow = new ServiceNowSimulator();
snow.installApp(readFileSync(UPDATE_SET, 'utf8'));
const snowRunning = await snow.listen();
const ado = new AdoSimulator({ seed: { organization: 'acme', projects: [{ name: 'Development' }] } });
const adoRunning = await ado.listen();
const dataDir = mkdtempSync(join(tmpdir(), 'exalate-screenshots-servicenow-'));
const server = await startServer(
  {
    host: '127.0.0.1',
    port: 0,
    publicUrl: null,
    dataDir,
    databaseUrl: null,
    schemaPrefix: 'shotss_',
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
    nodes: [
      {
        id: 'snow',
        private: false,
        modes: ['BASIC', 'VISUAL', 'SCRIPT'],
        adminToken: 'admin-snow-0123456789abcdef',
        tracker: { kind: 'servicenow', url: snowRunning.url, user: 'exalate', secret: 'exalate-password' },
      },
      {
        id: 'ado',
        private: false,
        modes: ['BASIC', 'VISUAL', 'SCRIPT'],
        adminToken: 'admin-ado-0123456789abcdef',
        tracker: { kind: 'azure-devops', url: `${adoRunning.url}/acme`, secret: 'sync-pat', webhooks: false },
      },
    ],
  },
  createLogger({ level: 'warn' }),
);
const nodeUrl = (id) => `${server.publicUrl}/nodes/${id}`;
const admin = (id, method, path, body) =>
  fetch(`${nodeUrl(id)}/api/v1${path}`, {
    method,
    headers: { authorization: `Bearer admin-${id}-0123456789abcdef`, 'content-type': 'application/json' },
    body: body && JSON.stringify(body),
  }).then((r) => r.json());
await fetch(`${snowRunning.url}/api/now/table/incident`, {
  method: 'POST',
  headers: { authorization: `Basic ${Buffer.from('admin:admin-password').toString('base64')}`, 'content-type': 'application/json' },
  body: JSON.stringify({ short_description: 'Email is down for the sales team', impact: '1', urgency: '1' }),
});

const browser = await chromium.launch({ executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium', args: ['--no-sandbox'] });
const shots = [];
async function signIn(user, viewport = { width: 1280, height: 800 }, deviceScaleFactor = 1) {
  const context = await browser.newContext({ viewport, deviceScaleFactor });
  await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: snowRunning.url });
  const page = await context.newPage();
  await page.goto(`${snowRunning.url}/now/nav/ui/home`);
  if (user === 'admin' && !shots.length) await shot(page, 'login');
  await page.getByLabel('User name').fill(user);
  await page.getByLabel('Password').fill(`${user}-password`);
  await page.getByRole('button', { name: 'Log in' }).click();
  await page.waitForURL((u) => u.pathname === '/now/nav/ui/home');
  return { page, close: () => context.close() };
}
async function module(page, name) {
  await page.getByLabel('Filter navigator').fill('Exalate');
  await page.getByRole('navigation', { name: 'All menu' }).getByRole('link', { name }).click();
  const frame = page.frameLocator('#gsft_main');
  await frame.locator('#exalate-root h1').first().waitFor();
  return frame;
}
async function shot(page, name) {
  const file = join(out, `servicenow-${String(shots.length + 1).padStart(2, '0')}-${name}.png`);
  await page.screenshot({ path: file });
  shots.push(file);
}

try {
  const { page, close } = await signIn('admin');
  await page.getByLabel('Filter navigator').fill('Exalate');
  await shot(page, 'navigator');
  let frame = await module(page, 'Settings');
  await shot(page, 'settings-unpaired');
  await frame.getByLabel(/pairing code/i).fill('EXPAIR1.damaged');
  await frame.getByRole('button', { name: 'Pair' }).click();
  await frame.getByText(/not a whole pairing code/).waitFor();
  await shot(page, 'settings-bad-code');
  const { pairingCode } = await admin('snow', 'POST', '/settings/tracker-app/pairing-code', {});
  await frame.getByLabel(/pairing code/i).fill(pairingCode);
  await frame.getByRole('button', { name: 'Pair' }).click();
  await frame.getByTestId('token-source').waitFor();
  await shot(page, 'settings-paired');

  frame = await module(page, 'Connections');
  await frame.getByText('No connections yet.').waitFor();
  await shot(page, 'connections-empty');
  await frame.getByRole('button', { name: 'Initiate connection' }).click();
  await frame.getByLabel('Destination instance URL').fill(nodeUrl('ado'));
  await page.keyboard.press('Tab');
  await frame.getByTestId('destination-found').waitFor();
  await frame.getByRole('radio', { name: /^Script/ }).check();
  await shot(page, 'initiate-destination');
  await frame.getByRole('button', { name: 'Next' }).click();
  await frame.getByLabel(/^Local instance short name/).fill('AcmeServiceNow');
  await frame.getByLabel(/^Remote instance short name/).fill('AcmeDevOps');
  await shot(page, 'initiate-connection-information');
  await frame.getByRole('button', { name: 'Next' }).click();
  await frame.getByLabel(/^Table for incoming records/).waitFor();
  await shot(page, 'initiate-table');
  await frame.getByRole('button', { name: 'Initiate', exact: true }).click();
  const code = await frame.getByLabel('Use the following invitation code:').inputValue();
  await shot(page, 'initiate-invitation-code');
  await frame.getByRole('button', { name: 'Done' }).click();
  await admin('ado', 'POST', '/invitations/accept', { code, project: 'Development' });
  await frame.getByRole('row').filter({ hasText: 'AcmeServiceNow_to_AcmeDevOps' }).getByText('Active').waitFor({ timeout: 15_000 });
  await shot(page, 'connections-active');

  const started = await admin('ado', 'POST', '/connections', {
    destinationUrl: nodeUrl('snow'),
    mode: 'SCRIPT',
    localShortName: 'Dev',
    remoteShortName: 'Desk',
    project: 'Development',
  });
  await frame.getByRole('button', { name: 'Accept invitation' }).click();
  await frame.getByRole('textbox', { name: 'Invitation code' }).fill('this is not a code');
  await frame.getByRole('button', { name: 'Next' }).click();
  await frame.getByText(/This is not an Exalate invitation code/).waitFor();
  await shot(page, 'accept-bad-code');
  await frame.getByRole('textbox', { name: 'Invitation code' }).fill(started.invitationCode);
  await shot(page, 'accept-paste');
  await frame.getByRole('button', { name: 'Next' }).click();
  await frame.getByRole('heading', { name: 'Congratulations!' }).waitFor();
  await shot(page, 'accept-congratulations');
  await frame.getByRole('button', { name: 'Configure Sync' }).click();
  await frame.getByRole('textbox', { name: 'Outgoing sync' }).waitFor();
  await shot(page, 'configure-sync-table-and-rules');
  await frame.getByRole('button', { name: 'Add trigger' }).click();
  await frame.getByRole('textbox', { name: 'Query (encoded query)' }).fill('active=true^priority=1');
  await frame.getByRole('button', { name: 'Preview matching records' }).click();
  await frame.getByTestId('trigger-preview').getByText('Email is down for the sales team').waitFor();
  await frame.getByTestId('trigger-preview').scrollIntoViewIfNeeded();
  await shot(page, 'configure-sync-trigger-preview');
  await frame.getByRole('button', { name: 'Save trigger' }).click();
  await frame.getByRole('button', { name: 'Bulk sync what trigger active=true^priority=1 matches' }).click();
  await frame
    .getByTestId('bulk-progress')
    .getByText(/done \(.*\)\.$/)
    .waitFor({ timeout: 30_000 });
  await frame.getByTestId('queue-counts').scrollIntoViewIfNeeded();
  await shot(page, 'configure-sync-bulk-and-queue');
  frame = await module(page, 'Sync queue');
  await frame.getByTestId('queue-Dev_to_Desk').waitFor();
  await shot(page, 'sync-queue');
  await close();

  // 200% zoom of a 1280×800 window: the same page laid out in 640×400 CSS pixels.
  const zoomed = await signIn('admin', { width: 640, height: 400 }, 2);
  const zframe = await module(zoomed.page, 'Connections');
  await zframe.getByRole('row').filter({ hasText: 'Dev_to_Desk' }).waitFor();
  await shot(zoomed.page, 'connections-200-percent');
  await zoomed.close();

  const refused = await signIn('bob');
  await refused.page.goto(`${snowRunning.url}/x_exalate_sync_exalate.do?sysparm_tab=connections`);
  await refused.page.getByRole('alert').first().waitFor();
  await shot(refused.page, 'without-the-role');
  await refused.close();
  console.log(`Wrote ${shots.length} screenshots to ${out}`);
} finally {
  await browser.close();
  await server.close();
  await snowRunning.close();
  await adoRunning.close();
  rmSync(dataDir, { recursive: true, force: true });
}
