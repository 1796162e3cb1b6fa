#!/usr/bin/env node
// `npm run screenshots:jira`: a picture of each screen of the Exalate page in Jira Data Center
// (Settings → Apps → Exalate), as the simulated Jira serves it from the built jar, written to
// docs/screenshots/jira-*.png (not committed) for a reviewer to look at. A Jira Data Center and an
// Azure DevOps organization, a node for each, Debian's Chromium.
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { createLogger, MAX_ATTACHMENT_MB, startServer } from '../packages/backend/dist/index.js';
import { AdoSimulator, JiraSimulator } from '../packages/simulators/dist/index.js';
import { HARNESS_CLASSPATH, JAR } from '../packages/jira-app/build.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const out = join(root, 'docs/screenshots');
mkdirSync(out, { recursive: true });

const jira = new JiraSimulator({ seed: { flavor: 'datacenter' } });
const jiraRunning = await jira.listen();
await jira.installApp({ jar: JAR, harnessClasspath: HARNESS_CLASSPATH, baseUrl: jiraRunning.url });
const ado = new AdoSimulator({ seed: { organization: 'acme', projects: [{ name: 'Development' }, { name: 'Operations', process: 'Basic' }] } });
const adoRunning = await ado.listen();
const dataDir = mkdtempSync(join(tmpdir(), 'exalate-screenshots-jira-'));
const server = await startServer(
  {
    host: '127.0.0.1',
    port: 0,
    publicUrl: null,
    dataDir,
    databaseUrl: null,
    schemaPrefix: 'shotsj_',
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
        id: 'jira',
        private: false,
        modes: ['BASIC', 'VISUAL', 'SCRIPT'],
        adminToken: 'admin-jira-0123456789abcdef',
        tracker: { kind: 'jira-datacenter', url: jiraRunning.url, secret: 'sync-pat', webhooks: false },
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
await fetch(`${jiraRunning.url}/rest/api/2/issue`, {
  method: 'POST',
  headers: { authorization: `Basic ${Buffer.from('alice:alice-password').toString('base64')}`, 'content-type': 'application/json' },
  body: JSON.stringify({ fields: { project: { key: 'SUP' }, summary: 'Checkout times out', issuetype: { name: 'Bug' } } }),
});

const browser = await chromium.launch({ executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium', args: ['--no-sandbox'] });
const shots = [];
async function signIn(user, path, viewport = { width: 1280, height: 800 }, deviceScaleFactor = 1) {
  const context = await browser.newContext({ viewport, deviceScaleFactor });
  await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: jiraRunning.url });
  const page = await context.newPage();
  await page.goto(`${jiraRunning.url}${path}`);
  if (user === 'alice' && path === '/plugins/servlet/upm') await shot(page, 'login');
  await page.getByLabel('Username').fill(user);
  await page.getByLabel('Password').fill(`${user}-password`);
  await page.getByRole('button', { name: 'Log In' }).click();
  await page.waitForURL((u) => u.pathname === path);
  return { page, close: () => context.close() };
}
async function shot(page, name) {
  const file = join(out, `jira-${String(shots.length + 1).padStart(2, '0')}-${name}.png`);
  await page.screenshot({ path: file });
  shots.push(file);
}
async function chooseProject(page, name) {
  await page.getByLabel(/^Please select the project where you want to create/).click();
  await page.getByRole('option', { name }).click();
}

try {
  const { page, close } = await signIn('alice', '/plugins/servlet/upm');
  await shot(page, 'manage-apps');
  await page.getByRole('link', { name: 'Connections' }).click();
  await page.getByRole('heading', { name: 'General settings' }).waitFor();
  await shot(page, 'settings-unpaired');
  await page.getByLabel(/Pairing code/).fill('EXPAIR1.damaged');
  await page.getByRole('button', { name: 'Pair' }).click();
  await page.getByText(/not a whole pairing code/).waitFor();
  await shot(page, 'settings-bad-code');
  const { pairingCode } = await admin('jira', 'POST', '/settings/tracker-app/pairing-code', {});
  await page.getByLabel(/Pairing code/).fill(pairingCode);
  await page.getByRole('button', { name: 'Pair' }).click();
  await page.getByTestId('token-source').waitFor();
  await shot(page, 'settings-paired');

  await page.getByRole('link', { name: 'Connections' }).click();
  await page.getByText('No connections yet.').waitFor();
  await shot(page, 'connections-empty');
  await page.getByRole('button', { name: 'Initiate connection' }).click();
  await page.getByLabel('Destination instance URL').fill(nodeUrl('ado'));
  await page.keyboard.press('Tab');
  await page.getByTestId('destination-found').waitFor();
  await page.getByRole('radio', { name: /^Script/ }).check();
  await shot(page, 'initiate-destination');
  await page.getByRole('button', { name: 'Next' }).click();
  await page.getByLabel(/^Local instance short name/).fill('AcmeJira');
  await page.getByLabel(/^Remote instance short name/).fill('AcmeDevOps');
  await page.getByLabel(/^Description/).fill('Support escalations to engineering');
  await shot(page, 'initiate-connection-information');
  await page.getByRole('button', { name: 'Next' }).click();
  await page.getByRole('heading', { name: /Select a project for the incoming sync/ }).waitFor();
  await shot(page, 'initiate-project');
  await chooseProject(page, /Support/);
  await page.getByRole('button', { name: 'Initiate', exact: true }).click();
  const code = await page.getByLabel('Use the following invitation code:').inputValue();
  await shot(page, 'initiate-invitation-code');
  await page.getByRole('button', { name: 'Done' }).click();
  await page.getByRole('row').filter({ hasText: 'AcmeJira_to_AcmeDevOps' }).waitFor();
  await shot(page, 'connections-pending');
  await admin('ado', 'POST', '/invitations/accept', { code, project: 'Development' });
  await page.getByRole('row').filter({ hasText: 'AcmeJira_to_AcmeDevOps' }).getByText('Active').waitFor({ timeout: 15_000 });
  await shot(page, 'connections-active');

  const started = await admin('ado', 'POST', '/connections', {
    destinationUrl: jiraRunning.url,
    mode: 'SCRIPT',
    localShortName: 'Ops',
    remoteShortName: 'Help',
    project: 'Operations',
  });
  await page.getByRole('button', { name: 'Accept the invitation' }).click();
  await page.getByRole('textbox', { name: 'Invitation code' }).fill('this is not a code');
  await page.getByRole('button', { name: 'Next' }).click();
  await page.getByText(/This is not an Exalate invitation code/).waitFor();
  await shot(page, 'accept-bad-code');
  await page.getByRole('textbox', { name: 'Invitation code' }).fill(started.invitationCode);
  await page.getByRole('button', { name: 'Next' }).click();
  await page.getByTestId('invitation-preview').waitFor();
  await shot(page, 'accept-project');
  await chooseProject(page, /Engineering/);
  await page.getByRole('button', { name: 'Confirm' }).click();
  await page.getByRole('heading', { name: 'Congratulations!' }).waitFor();
  await shot(page, 'accept-congratulations');
  await page.getByRole('button', { name: 'Configure Sync' }).click();
  await page.getByRole('textbox', { name: 'Outgoing sync' }).waitFor();
  await shot(page, 'configure-sync-rules');
  await page.getByRole('button', { name: 'Add trigger' }).click();
  await page.getByRole('textbox', { name: 'Query (JQL)' }).fill('project = SUP');
  await page.getByRole('button', { name: 'Preview matching issues' }).click();
  await page.getByTestId('trigger-preview').getByText('Checkout times out').waitFor();
  await page.getByTestId('trigger-preview').scrollIntoViewIfNeeded();
  await shot(page, 'configure-sync-trigger-preview');
  await page.getByRole('button', { name: 'Save trigger' }).click();
  await page.getByRole('button', { name: 'Bulk sync what trigger project = SUP matches' }).click();
  await page
    .getByTestId('bulk-progress')
    .getByText(/done \(.*\)\.$/)
    .waitFor({ timeout: 30_000 });
  await page.getByTestId('queue-counts').scrollIntoViewIfNeeded();
  await shot(page, 'configure-sync-bulk-and-queue');
  await close();

  // 200% zoom of a 1280×800 window: the same page laid out in 640×400 CSS pixels.
  const zoomed = await signIn('alice', '/plugins/servlet/exalate/connections', { width: 640, height: 400 }, 2);
  await zoomed.page.getByRole('row').filter({ hasText: 'AcmeJira_to_AcmeDevOps' }).waitFor();
  await shot(zoomed.page, 'connections-200-percent');
  await zoomed.close();

  const refused = await signIn('bob', '/plugins/servlet/exalate/connections');
  await shot(refused.page, 'not-an-administrator');
  await refused.close();
  console.log(`Wrote ${shots.length} screenshots to ${out}`);
} finally {
  await browser.close();
  await server.close();
  await jira.close();
  await jiraRunning.close();
  await adoRunning.close();
  rmSync(dataDir, { recursive: true, force: true });
}
