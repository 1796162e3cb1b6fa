// The Exalate application in ServiceNow, run as an admin meets it: signed in to the instance,
// All → Exalate → a module, the application's UI page from the committed update set calling its
// own Scripted REST API, whose script include (run by the instance) forwards to the node.
import type { Page } from 'playwright-core';
import { openHub, openModule, pairInSettings, signInToServiceNow, startServiceNowWorld, type ServiceNowWorld } from './support.js';

let world: ServiceNowWorld;
const pages: Page[] = [];
beforeAll(async () => {
  world = await startServiceNowWorld();
}, 90_000);
afterAll(() => world?.close());
afterEach(async () => {
  for (const p of pages.splice(0)) await p.context().close();
});
const open = async (user: 'admin' | 'bob', instance = world.acmeUrl) => {
  const page = await signInToServiceNow(world, instance, user);
  pages.push(page);
  return page;
};
const statusIn = (frame: ReturnType<Page['frameLocator']>, connection: string) => frame.getByRole('row').filter({ hasText: connection }).getByTestId('status');

test("a user without the Exalate role sees no Exalate menu, and the REST API refuses the page's calls", async () => {
  const page = await open('bob');
  await expect(page.getByRole('navigation', { name: 'All menu' }).getByText('Exalate').count()).resolves.toBe(0);
  await page.goto(`${world.acmeUrl}/x_exalate_sync_exalate.do?sysparm_tab=settings`);
  await page
    .getByRole('alert')
    .getByText(/User Not Authorized/)
    .first()
    .waitFor();
  // Straight to the API with bob's session and token: refused by the ACL before any script runs.
  const answer = await page.evaluate(async () => {
    const r = await fetch('/api/x_exalate_sync/exalate/node?path=%2Fconnections', {
      headers: { 'X-UserToken': (globalThis as unknown as { g_ck: string }).g_ck },
    });
    return { status: r.status, body: await r.text() };
  });
  expect(answer.status).toBe(403);
  expect(answer.body).toMatch(/User Not Authorized/);
});

test("All → Exalate shows the modules from the application's records; Settings pairs the instance by code; the key never reaches the page", async () => {
  const page = await open('admin');
  const nav = page.getByRole('navigation', { name: 'All menu' });
  await page.getByLabel('Filter navigator').fill('queue');
  await expect(nav.getByRole('link').filter({ visible: true }).allTextContents()).resolves.toEqual(['Sync queue']);
  await page.getByLabel('Filter navigator').fill('exalate');
  await expect(nav.getByRole('link').filter({ visible: true }).allTextContents()).resolves.toEqual(['Connections', 'Sync queue', 'Settings']);

  const frame = await openModule(page, 'Connections');
  // Not paired yet: the page opens Settings, where the pairing code goes.
  await frame.getByRole('heading', { name: 'Settings', level: 1 }).waitFor();
  await frame.getByLabel(/Pairing code/).fill('EXPAIR1.broken');
  await frame.getByRole('button', { name: 'Pair' }).click();
  await frame.getByText(/not a whole pairing code/).waitFor();
  await pairInSettings(world, frame, 'snow');
  await expect(frame.getByTestId('paired-with').textContent()).resolves.toContain(world.node('snow').url);

  // The settings the page reads hold no key; the application keeps it in its encrypted column.
  const settings = await page
    .frameLocator('#gsft_main')
    .locator('body')
    .evaluate(async () => {
      const r = await fetch('/api/x_exalate_sync/exalate/settings', { headers: { 'X-UserToken': (globalThis as unknown as { g_ck: string }).g_ck } });
      return r.text();
    });
  expect(settings).toContain(world.node('snow').url);
  const key = world.acme.state.tables['x_exalate_sync_setting']!.find((r) => r['name'] === 'key')!['secret']!;
  expect(key).toMatch(/^[A-Za-z0-9_-]{43}$/);
  expect(settings).not.toContain(key);
  // The application now publishes its node, for partners who enter this instance's address.
  expect(await (await fetch(`${world.acmeUrl}/api/x_exalate_sync/exalate/published-node`)).json()).toEqual({
    product: 'exalate',
    nodeUrl: world.node('snow').url,
  });
});

describe('connections of this instance, each admin in its own tracker', () => {
  beforeAll(async () => {
    const page = await open('admin');
    const frame = await openModule(page, 'Settings');
    // Once the settings are read, the pairing field shows (paired or not).
    await frame.getByLabel(/pairing code/i).waitFor();
    if (!(await frame.getByTestId('paired-with').isVisible())) await pairInSettings(world, frame, 'snow');
    world.seedHubSettings();
  }, 60_000);

  test('Azure DevOps initiates; the ServiceNow admin accepts: paste → Next → Congratulations with both names, both Active, a work item syncs into Incident', async () => {
    const { page: adoPage, hub } = await openHub(world);
    pages.push(adoPage);
    await hub.getByRole('button', { name: 'Initiate connection' }).click();
    await hub.getByLabel('Destination instance URL').fill(world.node('snow').url);
    await hub.getByRole('radio', { name: /^Script/ }).click();
    await hub.getByTestId('destination-found').waitFor();
    await hub.getByRole('button', { name: 'Next' }).click();
    await hub.getByLabel('Local instance short name').fill('AcmeDevOps');
    await hub.getByLabel('Remote instance short name').fill('AcmeServiceNow');
    await hub.getByRole('button', { name: 'Next' }).click();
    await hub.getByRole('button', { name: /^Please select the project where you want to create/ }).click();
    await hub.getByRole('option', { name: 'Development' }).click();
    await hub.getByRole('button', { name: 'Initiate', exact: true }).click();
    const code = await hub.getByLabel('Use the following invitation code:').inputValue();

    const page = await open('admin');
    const frame = await openModule(page, 'Connections');
    await frame.getByRole('button', { name: 'Accept invitation' }).click();
    // A bad code first: refused on the field, with what to do.
    await frame.getByRole('textbox', { name: 'Invitation code' }).fill('not a code at all');
    await frame.getByRole('button', { name: 'Next' }).click();
    await frame
      .getByRole('dialog')
      .getByText(/This is not an Exalate invitation code|incomplete or has been changed/)
      .first()
      .waitFor();
    await frame.getByRole('textbox', { name: 'Invitation code' }).fill(code);
    await frame.getByRole('button', { name: 'Next' }).click();
    // No project step: ServiceNow puts incoming records in Incident.
    await frame.getByRole('heading', { name: 'Congratulations!' }).waitFor();
    await expect(frame.getByTestId('established-sides').textContent()).resolves.toMatch(/AcmeServiceNow.*AcmeDevOps/);
    await frame.getByText('Connection is established.').waitFor();
    await frame.getByRole('button', { name: 'Close' }).click();
    await statusIn(frame, 'AcmeDevOps_to_AcmeServiceNow').getByText('Active').waitFor();
    await hub.getByRole('button', { name: 'Done' }).click();
    await hub.getByRole('row').filter({ hasText: 'AcmeDevOps_to_AcmeServiceNow' }).getByTestId('status').getByText('Active').waitFor({ timeout: 15_000 });

    // A work item synced now lands as an incident.
    const ado = world.node('ado').admin;
    const connection = (await ado.listConnections()).ok
      ? ((await ado.listConnections()) as { ok: true; value: { connections: Array<{ id: string; name: string }> } }).value.connections.find(
          (c) => c.name === 'AcmeDevOps_to_AcmeServiceNow',
        )!
      : null;
    const created = await fetch(`${world.adoUrl}/acme-ado/Development/_apis/wit/workitems/$Task?api-version=7.1`, {
      method: 'POST',
      headers: { authorization: `Basic ${Buffer.from(':sync-pat').toString('base64')}`, 'content-type': 'application/json-patch+json' },
      body: JSON.stringify([{ op: 'add', path: '/fields/System.Title', value: 'Printer on fire' }]),
    });
    const { id } = (await created.json()) as { id: number };
    expect((await ado.syncNow(connection!.id, String(id))).ok).toBe(true);
    const arrived = () => world.acme.state.tables['incident']!.some((r) => r['short_description'] === 'Printer on fire');
    for (let i = 0; i < 150 && !arrived(); i++) await new Promise((r) => setTimeout(r, 200));
    expect(arrived()).toBe(true);
  });

  test('the ServiceNow admin initiates; the Azure DevOps admin accepts in the hub: both Active', async () => {
    const page = await open('admin');
    const frame = await openModule(page, 'Connections');
    await frame.getByRole('button', { name: 'Initiate connection' }).click();
    await frame.getByLabel('Destination instance URL').fill(world.node('ado').url);
    // Leaving the field asks the destination (by keyboard here).
    await page.keyboard.press('Tab');
    await frame.getByTestId('destination-found').waitFor();
    await frame.getByRole('radio', { name: /^Script/ }).check();
    await frame.getByRole('button', { name: 'Next' }).click();
    await frame.getByLabel(/^Local instance short name/).fill('Desk');
    await frame.getByLabel(/^Remote instance short name/).fill('Dev');
    await frame.getByRole('button', { name: 'Next' }).click();
    // Incident is preselected; another table can be chosen.
    await expect(frame.getByLabel(/^Table for incoming records/).inputValue()).resolves.toBe('incident');
    await frame.getByLabel(/^Table for incoming records/).selectOption('problem');
    await frame.getByRole('button', { name: 'Initiate', exact: true }).click();
    const code = await frame.getByLabel('Use the following invitation code:').inputValue();
    await frame.getByRole('button', { name: 'Done' }).click();
    await statusIn(frame, 'Desk_to_Dev').getByText('Pending').waitFor();

    const { page: adoPage, hub } = await openHub(world);
    pages.push(adoPage);
    await hub.getByRole('button', { name: 'Accept invitation' }).click();
    await hub.getByPlaceholder('Enter the invitation code').fill(code);
    await hub.getByRole('button', { name: 'Next' }).click();
    await expect(hub.getByTestId('invitation-preview').textContent()).resolves.toContain('ServiceNow');
    await hub.getByRole('button', { name: /^Please select the project where you want to create/ }).click();
    await hub.getByRole('option', { name: 'Development' }).click();
    await hub.getByRole('button', { name: 'Confirm' }).click();
    await hub.getByRole('heading', { name: 'Congratulations!' }).waitFor();
    await statusIn(frame, 'Desk_to_Dev').getByText('Active').waitFor({ timeout: 15_000 });
  });

  test('the ServiceNow admin initiates for a private partner ("I don\'t have a URL"), which accepts and connects: Active', async () => {
    const page = await open('admin');
    const frame = await openModule(page, 'Connections');
    await frame.getByRole('button', { name: 'Initiate connection' }).click();
    // The switch by keyboard, as an admin without a mouse would.
    const noUrl = frame.getByRole('switch', { name: "I don't have a URL" });
    await noUrl.focus();
    await page.keyboard.press('Space');
    await expect(noUrl.isChecked()).resolves.toBe(true);
    await frame.getByRole('radio', { name: /^Script/ }).check();
    await frame.getByRole('button', { name: 'Next' }).click();
    await frame.getByLabel(/^Local instance short name/).fill('Desk');
    await frame.getByLabel(/^Destination instance short name/).fill('Partner');
    await frame.getByRole('button', { name: 'Next' }).click();
    await frame.getByRole('button', { name: 'Initiate', exact: true }).click();
    await frame.getByText(/As this is a Public-Private connection/).waitFor();
    const code = await frame.getByLabel('Use the following invitation code:').inputValue();
    await frame.getByRole('button', { name: 'Done' }).click();
    // The partner's node accepts and calls this one.
    expect((await world.node('ado').admin.acceptInvitation({ code, project: 'Development' })).ok).toBe(true);
    await statusIn(frame, 'Desk_to_Partner').getByText('Active').waitFor({ timeout: 20_000 });
  });

  test('Jira initiates in its Exalate page; the ServiceNow admin accepts: both Active', async () => {
    // The Jira side pairs its app and initiates through its page, as its admin does.
    const context = await world.browser.newContext({ viewport: { width: 1280, height: 800 } });
    const jiraPage = await context.newPage();
    pages.push(jiraPage);
    await jiraPage.goto(`${world.jiraUrl}/plugins/servlet/exalate/settings`);
    await jiraPage.getByLabel('Username').fill('alice');
    await jiraPage.getByLabel('Password').fill('alice-password');
    await jiraPage.getByRole('button', { name: 'Log In' }).click();
    await jiraPage.getByRole('heading', { name: 'General settings' }).waitFor();
    const issued = await world.node('jira').admin.issuePairingCode();
    if (!issued.ok) throw new Error(issued.error.message);
    await jiraPage.getByLabel(/Pairing code/).fill(issued.value.pairingCode);
    await jiraPage.getByRole('button', { name: 'Pair' }).click();
    await jiraPage.getByTestId('paired-with').waitFor();
    await jiraPage.getByRole('link', { name: 'Connections' }).click();
    await jiraPage.getByRole('button', { name: 'Initiate connection' }).click();
    await jiraPage.getByLabel('Destination instance URL').fill(world.node('snow').url);
    await jiraPage.keyboard.press('Tab');
    await jiraPage.getByTestId('destination-found').waitFor();
    await jiraPage.getByRole('radio', { name: /^Script/ }).check();
    await jiraPage.getByRole('button', { name: 'Next' }).click();
    await jiraPage.getByLabel(/^Local instance short name/).fill('AcmeJira');
    await jiraPage.getByLabel(/^Remote instance short name/).fill('AcmeServiceNow');
    await jiraPage.getByRole('button', { name: 'Next' }).click();
    await jiraPage.getByLabel(/^Please select the project where you want to create/).click();
    await jiraPage.getByRole('option', { name: /Support/ }).click();
    await jiraPage.getByRole('button', { name: 'Initiate', exact: true }).click();
    const code = await jiraPage.getByLabel('Use the following invitation code:').inputValue();

    const page = await open('admin');
    const frame = await openModule(page, 'Connections');
    await frame.getByRole('button', { name: 'Accept invitation' }).click();
    await frame.getByRole('textbox', { name: 'Invitation code' }).fill(code);
    await frame.getByRole('button', { name: 'Next' }).click();
    await frame.getByRole('heading', { name: 'Congratulations!' }).waitFor();
    await frame.getByRole('button', { name: 'Close' }).click();
    await statusIn(frame, 'AcmeJira_to_AcmeServiceNow').getByText('Active').waitFor();
    await jiraPage.getByRole('button', { name: 'Done' }).click();
    await jiraPage.getByRole('row').filter({ hasText: 'AcmeJira_to_AcmeServiceNow' }).getByText('Active').waitFor({ timeout: 15_000 });
  });

  test('Configure sync: the table for incoming records, an encoded-query trigger previewed with its records; the Sync queue module lists the connection', async () => {
    const admin = Buffer.from('admin:admin-password').toString('base64');
    await fetch(`${world.acmeUrl}/api/now/table/incident`, {
      method: 'POST',
      headers: { authorization: `Basic ${admin}`, 'content-type': 'application/json' },
      body: JSON.stringify({ short_description: 'Email is down', priority: '1', urgency: '1', impact: '1' }),
    });
    const page = await open('admin');
    const frame = await openModule(page, 'Connections');
    await frame.getByRole('button', { name: 'Configure: AcmeDevOps_to_AcmeServiceNow' }).click();
    await frame.getByRole('heading', { name: 'Configure sync: AcmeDevOps_to_AcmeServiceNow' }).waitFor();
    const table = frame.getByLabel(/^Create records from the other side in/);
    await expect(table.inputValue()).resolves.toBe('incident');
    await table.selectOption('problem');
    await frame.getByText('New items from the other side are created in Problem from now on').waitFor();
    await table.selectOption('incident');
    await frame.getByText('New items from the other side are created in Incident from now on').waitFor();

    await frame.getByRole('button', { name: 'Add trigger' }).click();
    await frame.getByRole('textbox', { name: 'Query (encoded query)' }).fill('active=true^priority=1');
    await frame.getByRole('button', { name: 'Preview matching records' }).click();
    await frame.getByTestId('trigger-preview').getByText('Email is down').waitFor();
    await frame.getByRole('button', { name: 'Save trigger' }).click();
    await frame.getByRole('cell', { name: 'active=true^priority=1', exact: true }).waitFor();

    const queue = await openModule(page, 'Sync queue');
    await queue.getByRole('heading', { name: 'Sync queue', level: 1 }).waitFor();
    await queue.getByTestId('queue-AcmeDevOps_to_AcmeServiceNow').getByTestId('queue-counts').waitFor();
  });

  test('a private ServiceNow node (no URL of its own) accepts in its instance; it connects out and both are Active', async () => {
    const initiated = await world
      .node('ado')
      .admin.initiateConnection({ destinationUrl: null, mode: 'SCRIPT', localShortName: 'AcmeDevOps', remoteShortName: 'Globex', project: 'Development' });
    if (!initiated.ok) throw new Error(initiated.error.message);
    const page = await open('admin', world.globexUrl);
    const frame = await openModule(page, 'Settings');
    await pairInSettings(world, frame, 'globex');
    await page.getByRole('navigation', { name: 'All menu' }).getByRole('link', { name: 'Connections' }).click();
    const connections = page.frameLocator('#gsft_main');
    await connections.getByRole('button', { name: 'Accept invitation' }).click();
    await connections.getByRole('textbox', { name: 'Invitation code' }).fill(initiated.value.invitationCode);
    await connections.getByRole('button', { name: 'Next' }).click();
    await connections.getByRole('heading', { name: 'Congratulations!' }).waitFor({ timeout: 20_000 });
    await connections.getByRole('button', { name: 'Close' }).click();
    await statusIn(connections, 'AcmeDevOps_to_Globex').getByText('Active').waitFor({ timeout: 20_000 });
    const ado = await world.node('ado').admin.getConnection(initiated.value.connection.id);
    expect(ado.ok && ado.value.status).toBe('ACTIVE');
  });
});
