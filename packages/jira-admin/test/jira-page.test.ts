// The Exalate page in Jira Data Center, run as an admin meets it: signed in to Jira, Settings → Apps
// → Exalate, the app's own servlet (from the built jar) serving the page and minting its tokens.
import type { Page } from 'playwright-core';
import { openHub, pairInPage, signInToJira, startJiraWorld, type JiraWorld } from './support.js';

let world: JiraWorld;
const pages: Page[] = [];
beforeAll(async () => {
  world = await startJiraWorld();
}, 60_000);
afterAll(() => world?.close());
afterEach(async () => {
  for (const p of pages.splice(0)) await p.context().close();
});
const open = async (user: 'alice' | 'bob', path: string) => {
  const page = await signInToJira(world, user, path);
  pages.push(page);
  return page;
};

test('a non-administrator sees neither the page nor a token', async () => {
  const page = await open('bob', '/plugins/servlet/exalate/connections');
  await expect(page.getByRole('alert').textContent()).resolves.toMatch(/Only Jira system administrators can manage Exalate/);
  const token = await page.evaluate(async () => {
    const r = await fetch('/plugins/servlet/exalate/api/token', { method: 'POST', headers: { 'X-Atlassian-Token': 'no-check' } });
    return { status: r.status, body: (await r.json()) as { error: { code: string } } };
  });
  expect(token).toMatchObject({ status: 403, body: { error: { code: 'TRACKER_ADMIN_REQUIRED' } } });
});

test("Settings → Apps shows the Exalate menu from the app's descriptor; pairing in General settings makes Connections work", async () => {
  const page = await open('alice', '/plugins/servlet/upm');
  const sidebar = page.getByRole('navigation', { name: 'Apps administration' });
  await expect(sidebar.getByRole('link').allTextContents()).resolves.toEqual(['Manage apps', 'Connections', 'General settings']);
  await sidebar.getByRole('link', { name: 'Connections' }).click();
  // Not paired yet: the page opens General settings, where the pairing code goes.
  await page.getByRole('heading', { name: 'General settings' }).waitFor();
  await expect(page.getByRole('link', { name: 'Connections' }).getAttribute('aria-current')).resolves.toBe('page');

  // Without Jira's XSRF header, the app refuses the call.
  const noXsrf = await page.evaluate(async () => (await fetch('/plugins/servlet/exalate/api/token', { method: 'POST' })).status);
  expect(noXsrf).toBe(403);

  await page.getByLabel(/Pairing code/).fill('EXPAIR1.broken');
  await page.getByRole('button', { name: 'Pair' }).click();
  await page.getByText(/not a whole pairing code/).waitFor();

  await pairInPage(world, page);
  await page
    .getByRole('status')
    .getByText(`Paired with the Exalate node at ${world.node('jira').url}`)
    .waitFor();
  await expect(page.getByTestId('paired-with').textContent()).resolves.toContain(world.jiraUrl);

  // The app now publishes its node, for partners who enter this Jira's address.
  const published = await (await fetch(`${world.jiraUrl}/plugins/servlet/exalate/node`)).json();
  expect(published).toEqual({ product: 'exalate', nodeUrl: world.node('jira').url });

  await page.getByRole('link', { name: 'Connections' }).click();
  await page.getByRole('heading', { name: 'Connections', level: 1 }).waitFor();
  await page.getByText('No connections yet.').waitFor();
});

const statusIn = (page: Page, connection: string) => page.getByRole('row').filter({ hasText: connection }).getByTestId('status').textContent();

/** In the Jira page: pick the project of the incoming sync (an Atlaskit select). */
async function chooseJiraProject(page: Page, name: RegExp): Promise<void> {
  await page.getByRole('heading', { name: /Select a project for the incoming sync/ }).waitFor();
  await page.getByLabel(/^Please select the project where you want to create/).click();
  await page.getByRole('option', { name }).click();
}

describe('connections between this Jira and Azure DevOps, each admin in its own tracker', () => {
  beforeAll(async () => {
    // Paired once for these tests, as the first test above does through the page.
    const page = await open('alice', '/plugins/servlet/exalate/settings');
    await page.getByRole('heading', { name: 'General settings' }).waitFor();
    if (!(await page.getByTestId('paired-with').isVisible())) {
      await pairInPage(world, page);
      await page.getByTestId('paired-with').waitFor();
    }
    world.seedHubSettings();
  }, 60_000);

  test('Jira initiates to the Azure DevOps node; its admin accepts in the hub: both Active', async () => {
    const page = await open('alice', '/plugins/servlet/exalate/connections');
    await page.getByText('Connection defines synchronization behavior, including communication details, sync rules, and scope.').waitFor();
    await page.getByRole('button', { name: 'Initiate connection' }).click();
    await page.getByLabel('Destination instance URL').fill(world.node('ado').url);
    // Leaving the field asks the destination (by keyboard here).
    await page.keyboard.press('Tab');
    await page.getByTestId('destination-found').waitFor();
    await page.getByRole('radio', { name: /^Script/ }).check();
    await page.getByRole('button', { name: 'Next' }).click();
    await page.getByLabel(/^Local instance short name/).fill('AcmeJira');
    await page.getByLabel(/^Remote instance short name/).fill('AcmeDevOps');
    await page.getByRole('button', { name: 'Next' }).click();
    await chooseJiraProject(page, /Support/);
    await page.getByRole('button', { name: 'Initiate', exact: true }).click();
    const code = await page.getByLabel('Use the following invitation code:').inputValue();
    expect(code.length).toBeGreaterThan(100);
    await page.getByRole('button', { name: 'Done' }).click();
    await expect(statusIn(page, 'AcmeJira_to_AcmeDevOps')).resolves.toBe('Pending');

    const { page: adoPage, hub } = await openHub(world);
    pages.push(adoPage);
    await hub.getByRole('button', { name: 'Accept invitation' }).click();
    await hub.getByPlaceholder('Enter the invitation code').fill(code);
    await hub.getByRole('button', { name: 'Next' }).click();
    await expect(hub.getByTestId('invitation-preview').textContent()).resolves.toContain('Jira Data Center');
    await hub.getByRole('button', { name: /^Please select the project where you want to create/ }).click();
    await hub.getByRole('option', { name: 'Operations' }).click();
    await hub.getByRole('button', { name: 'Confirm' }).click();
    await hub.getByRole('heading', { name: 'Congratulations!' }).waitFor();

    // The Jira list follows the partner's answer by itself (it polls while a row is Pending).
    await page.getByRole('row').filter({ hasText: 'AcmeJira_to_AcmeDevOps' }).getByText('Active').waitFor({ timeout: 15_000 });
  });

  test("Azure DevOps initiates with this Jira's own address (the app leads to its node); the Jira admin accepts the invitation", async () => {
    const { page: adoPage, hub } = await openHub(world);
    pages.push(adoPage);
    await hub.getByRole('button', { name: 'Initiate connection' }).click();
    await hub.getByLabel('Destination instance URL').fill(world.jiraUrl);
    await hub.getByRole('radio', { name: /^Script/ }).click();
    await expect(hub.getByTestId('destination-found').textContent()).resolves.toContain('Jira');
    await hub.getByRole('button', { name: 'Next' }).click();
    await hub.getByLabel('Local instance short name').fill('Ops');
    await hub.getByLabel('Remote instance short name').fill('Help');
    await hub.getByRole('button', { name: 'Next' }).click();
    await hub.getByRole('button', { name: /^Please select the project where you want to create/ }).click();
    await hub.getByRole('option', { name: 'Development' }).click();
    await hub.getByRole('button', { name: 'Initiate', exact: true }).click();
    const code = await hub.getByLabel('Use the following invitation code:').inputValue();

    const page = await open('alice', '/plugins/servlet/exalate/connections');
    await page.getByRole('button', { name: 'Accept the invitation' }).click();
    const codeField = page.getByRole('textbox', { name: 'Invitation code' });
    // A bad code is refused on the field, once, with what to do.
    await codeField.fill('not a code at all');
    await page.getByRole('button', { name: 'Next' }).click();
    const refusal = page.getByRole('dialog').getByText(/This is not an Exalate invitation code|incomplete or has been changed/);
    await refusal.first().waitFor();
    expect(await refusal.count()).toBe(1);
    await codeField.fill(code);
    await page.getByRole('button', { name: 'Next' }).click();
    await expect(page.getByTestId('invitation-preview').textContent()).resolves.toContain('Ops_to_Help');
    await chooseJiraProject(page, /Engineering/);
    await page.getByRole('button', { name: 'Confirm' }).click();
    await page.getByRole('heading', { name: 'Congratulations!' }).waitFor();
    await page.getByText('Connection is established.').waitFor();
  });

  test('Configure sync: a JQL trigger previewed with the issues it matches, saved, bulk-synced; the issue arrives in Azure DevOps', async () => {
    const created = await fetch(`${world.jiraUrl}/rest/api/2/issue`, {
      method: 'POST',
      headers: { authorization: `Basic ${Buffer.from('alice:alice-password').toString('base64')}`, 'content-type': 'application/json' },
      body: JSON.stringify({ fields: { project: { key: 'SUP' }, summary: 'Printer on fire', issuetype: { name: 'Task' } } }),
    });
    const { key } = (await created.json()) as { key: string };

    const page = await open('alice', '/plugins/servlet/exalate/connections');
    await page.getByRole('button', { name: 'Configure: AcmeJira_to_AcmeDevOps' }).click();
    await page.getByRole('heading', { name: 'Configure sync: AcmeJira_to_AcmeDevOps' }).waitFor();
    await page.getByRole('textbox', { name: 'Outgoing sync' }).waitFor();
    await page.getByRole('button', { name: 'Add trigger' }).click();
    await page.getByRole('textbox', { name: 'Query (JQL)' }).fill('project = SUP');
    await page.getByRole('button', { name: 'Preview matching issues' }).click();
    await page.getByTestId('trigger-preview').getByText('Printer on fire').waitFor();
    await expect(page.getByTestId('trigger-preview').getByRole('link', { name: key }).isVisible()).resolves.toBe(true);
    await page.getByRole('button', { name: 'Save trigger' }).click();
    await page.getByRole('button', { name: 'Bulk sync what trigger project = SUP matches' }).click();
    await page
      .getByTestId('bulk-progress')
      .getByText(/1 of 1 done \(1 synced, 0 failed\)\./)
      .waitFor({ timeout: 30_000 });

    const arrived = async () => Object.values(world.ado.state.workItems).some((w) => w.fields['System.Title'] === 'Printer on fire');
    for (let i = 0; i < 100 && !(await arrived()); i++) await new Promise((r) => setTimeout(r, 200));
    expect(await arrived()).toBe(true);
  });

  test('Jira initiates for a private partner ("I don\'t have a URL"), which accepts and then connects: Active', async () => {
    const page = await open('alice', '/plugins/servlet/exalate/connections');
    await page.getByRole('button', { name: 'Initiate connection' }).click();
    // The toggle by keyboard, as Atlaskit draws its track over the input.
    const noUrl = page.getByRole('checkbox', { name: /I don't have a URL/ });
    await noUrl.focus();
    await page.keyboard.press('Space');
    await expect(noUrl.isChecked()).resolves.toBe(true);
    await page.getByRole('radio', { name: /^Script/ }).check();
    await page.getByRole('button', { name: 'Next' }).click();
    await page.getByLabel(/^Local instance short name/).fill('AcmeJira');
    await page.getByLabel(/^Destination instance short name/).fill('Initech');
    await page.getByRole('button', { name: 'Next' }).click();
    await chooseJiraProject(page, /Engineering/);
    await page.getByRole('button', { name: 'Initiate', exact: true }).click();
    await page.getByText(/As this is a Public-Private connection/).waitFor();
    const code = await page.getByLabel('Use the following invitation code:').inputValue();
    await page.getByRole('button', { name: 'Done' }).click();

    const accepted = await world.node('initech').admin.acceptInvitation({ code, project: 'Operations' });
    expect(accepted.ok).toBe(true);
    await page.getByRole('row').filter({ hasText: 'AcmeJira_to_Initech' }).getByText('Active').waitFor({ timeout: 20_000 });
  });

  test('an unreachable destination is refused on its field, with what to check', async () => {
    const page = await open('alice', '/plugins/servlet/exalate/connections');
    await page.getByRole('button', { name: 'Initiate connection' }).click();
    await page.getByLabel('Destination instance URL').fill('http://127.0.0.1:9/nodes/nowhere');
    await page.getByRole('radio', { name: /^Script/ }).check();
    await page.getByRole('button', { name: 'Next' }).click();
    await page
      .getByText(/could not be reached|did not answer|unreachable/i)
      .first()
      .waitFor();
    const field = page.getByRole('textbox', { name: 'Destination instance URL' });
    await expect(field.getAttribute('aria-invalid')).resolves.toBe('true');
    await expect(page.getByRole('heading', { name: /Step 1 of 4/ }).isVisible()).resolves.toBe(true);
  });

  test("a token the app mints admits one call to the node (from this Jira's origin); replayed, it is refused", async () => {
    const page = await open('alice', '/plugins/servlet/exalate/connections');
    const answers = await page.evaluate(async (nodeUrl) => {
      const minted = await fetch('/plugins/servlet/exalate/api/token', { method: 'POST', headers: { 'X-Atlassian-Token': 'no-check' } });
      const { token } = (await minted.json()) as { token: string };
      const call = async () => {
        const r = await fetch(`${nodeUrl}/api/v1/connections`, { headers: { authorization: `Bearer ${token}` } });
        return { status: r.status, code: ((await r.json()) as { error?: { code: string } }).error?.code ?? null };
      };
      return [await call(), await call()];
    }, world.node('jira').url);
    expect(answers).toEqual([
      { status: 200, code: null },
      { status: 401, code: 'UNAUTHENTICATED' },
    ]);
  });
});
