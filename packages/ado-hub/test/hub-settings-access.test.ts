import type { FrameLocator, Page } from 'playwright-core';
import { adminClient, connectViaApi, hubSuite, seedNodeUrl } from './support.js';

// General settings, the page outside Azure DevOps, keyboard-only use, and the layout at 1280×800
// and at 200% zoom.
const suite = hubSuite([{ name: 'acme' }, { name: 'globex' }]);
const open = suite.open;

test('opened outside Azure DevOps, the page says to open it from Organization settings', async () => {
  const context = await suite.world().browser.newContext();
  try {
    const page = await context.newPage();
    await page.goto(`${suite.org('acme').running.url}/_extensions/exalate-oss.exalate/dist/ado-hub/hub.html`);
    const alert = page.getByRole('alert');
    await alert.waitFor({ timeout: 5_000 });
    expect(await alert.textContent()).toContain('Organization settings → Extensions → Exalate');
  } finally {
    await context.close();
  }
});

test("the hub loads even when the host page's own script comes after the hub's frame (the SDK handshake is not lost)", async () => {
  // Under load the hub's frame can run SDK.init before the host page has run its script. Azure
  // DevOps creates the frame only once it listens, so the handshake must not depend on who is first.
  const acme = suite.org('acme');
  const context = await suite.world().browser.newContext();
  try {
    const page = await context.newPage();
    let hubFrameLoaded!: () => void;
    const frameFirst = new Promise<void>((resolve) => (hubFrameLoaded = resolve));
    page.on('framenavigated', (frame) => {
      if (frame !== page.mainFrame()) void frame.waitForLoadState('load').then(hubFrameLoaded);
    });
    // The host's script is held back until the hub's frame has loaded (or 3 s at most, since a faithful host gives the frame its page only after its script ran).
    await page.route('**/_shell/host.js', async (route) => {
      await Promise.race([frameFirst, new Promise((r) => setTimeout(r, 3_000))]);
      await route.continue();
    });
    await page.goto(acme.settingsUrl, { waitUntil: 'commit' });
    await page.waitForFunction('document.body.dataset.hubLoaded !== undefined', undefined, { timeout: 30_000 });
    expect(await page.evaluate('document.body.dataset.hubLoaded')).toBe('true');
    // With no node URL saved yet, the hub opens on General settings.
    await page.frameLocator('#hub-frame').getByRole('heading', { name: 'General settings' }).waitFor();
  } finally {
    await context.close();
  }
});

test("General settings: refuses what is not this organization's node, then checks and saves the node URL", async () => {
  const acme = suite.org('acme');
  const globex = suite.org('globex');
  const { hub } = await open('acme');
  // The organization and the user come from the SDK's handshake.
  await hub
    .getByText(
      `Sync work items of acme with Jira, ServiceNow and other Azure DevOps organizations. Signed in as ${acme.simulator.state.identities[0]!.displayName}.`,
    )
    .waitFor();
  // No node URL yet: the hub starts on General settings.
  await hub.getByRole('heading', { name: 'General settings' }).waitFor();
  const field = hub.getByLabel('Exalate node URL');
  const save = hub.getByRole('button', { name: 'Save' });

  await field.fill('not a url');
  await save.click();
  await hub.getByText('This is not a URL').waitFor();

  await field.fill('http://127.0.0.1:9/nodes/ado');
  await save.click();
  await hub.getByText(/No Exalate node answered at this URL/).waitFor();

  // Another organization's node: it is an Azure DevOps node, but it does not admit acme's admin.
  await field.fill(globex.nodeUrl);
  await save.click();
  const alert = hub.getByRole('alert').first();
  await alert.waitFor();
  expect(await alert.textContent()).toMatch(/UNAUTHENTICATED/);
  expect(await alert.textContent()).toContain(`${globex.running.url}/globex`);

  await field.fill(`${acme.nodeUrl}/`);
  await save.click();
  // Saving says so and stays on General settings; Connections then opens on this node.
  await hub.getByRole('status').getByText('Settings saved').waitFor();
  await expect(hub.getByRole('heading', { name: 'General settings' }).isVisible()).resolves.toBe(true);
  await hub.getByRole('tab', { name: 'Connections' }).click();
  await hub.getByRole('heading', { name: 'Connections' }).waitFor();
  // No notice from elsewhere follows the admin onto the list.
  expect(await hub.getByRole('status').first().textContent()).toBe('');
  const stored = Object.entries(acme.simulator.state.extensionHost!.documents).find(([k]) => k.endsWith('/$settings'))?.[1];
  expect(stored?.['exalate-settings']?.['value']).toEqual({ nodeUrl: acme.nodeUrl });
});

test("General settings: the node's personal access token is checked, stored encrypted and never shown again", async () => {
  seedNodeUrl(suite.org('acme'));
  const { hub } = await open('acme');
  await hub.getByRole('tab', { name: 'General settings' }).click();
  const source = hub.getByTestId('token-source');
  await source.waitFor();
  expect(await source.textContent()).toContain('from its configuration');
  const token = hub.getByLabel('New personal access token');
  expect(await token.getAttribute('type')).toBe('password');

  await token.fill('revoked-token');
  await hub.getByRole('button', { name: 'Save token' }).click();
  await hub
    .getByText(/refused this token/)
    .first()
    .waitFor();

  await token.fill('alice-pat');
  await hub.getByRole('button', { name: 'Save token' }).click();
  await hub.getByText(/Token saved/).waitFor();
  expect(await source.textContent()).toContain('set here');
  expect(await token.inputValue()).toBe('');
  // The node tells the page where the token came from, never the token.
  const view = await adminClient(suite.org('acme')).getSettings();
  expect(view.ok && JSON.stringify(view.value)).not.toContain('alice-pat');
  expect(view.ok && view.value.tracker.credential.source).toBe('settings');
});

/** Presses Tab until the focused element in the hub is labelled `name`. */
async function tabTo(page: Page, hub: FrameLocator, name: string, max = 40): Promise<void> {
  for (let i = 0; i < max; i++) {
    await page.keyboard.press('Tab');
    const focused = await hub.locator(':focus').evaluateAll((els) => els.map((e) => (e.getAttribute('aria-label') ?? e.textContent ?? '').trim()));
    if (focused.some((label) => label === name)) return;
  }
  throw new Error(`Tab never reached "${name}"`);
}

test('keyboard only: initiate a connection, copy the invitation code and finish', async () => {
  const acme = suite.org('acme');
  seedNodeUrl(acme);
  const { hub, page } = await open('acme');
  await hub.getByRole('heading', { name: 'Connections' }).waitFor();
  await tabTo(page, hub, 'Initiate connection');
  await page.keyboard.press('Enter');
  // The step heading takes focus; the URL field is next.
  await hub.getByRole('heading', { name: /Step 1 of 4/ }).waitFor();
  await tabTo(page, hub, "I don't have a URL (the partner is private and connects to this node)");
  await page.keyboard.press('Space');
  await tabTo(page, hub, 'Next');
  await page.keyboard.press('Enter');
  await hub.getByRole('heading', { name: /Step 2 of 4: Connection information/ }).waitFor();
  await page.keyboard.press('Tab');
  await page.keyboard.type('KeyAcme');
  await page.keyboard.press('Tab');
  await page.keyboard.type('KeyPartner');
  await page.keyboard.press('Enter');
  await hub.getByRole('heading', { name: /Step 3 of 4/ }).waitFor();
  await tabTo(page, hub, 'Please select the project where you want to create issues, received from the other side.');
  await page.keyboard.press('Enter');
  await hub.getByRole('option', { name: 'Development' }).waitFor();
  await page.keyboard.press('ArrowDown');
  await page.keyboard.press('Enter');
  await tabTo(page, hub, 'Initiate');
  await page.keyboard.press('Enter');
  await hub.getByRole('heading', { name: /Step 4 of 4: Use the following invitation code/ }).waitFor();
  await tabTo(page, hub, 'Copy invitation code');
  await page.keyboard.press('Enter');
  await hub.getByRole('status').getByText('Invitation code copied').waitFor();
  expect(await page.evaluate('navigator.clipboard.readText()')).toBe(await hub.getByLabel('Use the following invitation code:').inputValue());
  await tabTo(page, hub, 'Done');
  await page.keyboard.press('Enter');
  await hub.locator('tr[data-connection="KeyAcme_to_KeyPartner"]').waitFor();
});

/** Whether the hub's document scrolls sideways (it must not: content reflows instead). */
async function overflowsSideways(page: Page): Promise<boolean> {
  const frame = page.frame({ url: /hub\.html/ })!;
  return (await frame.evaluate('document.documentElement.scrollWidth > document.documentElement.clientWidth + 1')) as boolean;
}

test.each([
  ['1280×800', { width: 1280, height: 800 }, 1],
  ['200% zoom (1280×800 at 2× is 640×400 CSS pixels)', { width: 640, height: 400 }, 2],
])('every screen fits without sideways scrolling at %s', async (_name, viewport, deviceScaleFactor) => {
  const [acme, globex] = [suite.org('acme'), suite.org('globex')];
  seedNodeUrl(acme);
  seedNodeUrl(globex);
  const name = `Zoom${deviceScaleFactor}`;
  await connectViaApi(acme, globex, { local: name, remote: 'Globex' });
  const { hub, page } = await open('acme', { viewport, deviceScaleFactor });
  await hub.getByRole('table', { name: 'Connections' }).waitFor();
  expect(await overflowsSideways(page)).toBe(false);
  await hub.getByRole('button', { name: 'Initiate connection' }).click();
  await hub.getByLabel('Destination instance URL').waitFor();
  expect(await overflowsSideways(page)).toBe(false);
  await hub.getByRole('button', { name: 'Close' }).click();
  await hub.getByRole('dialog').waitFor({ state: 'detached' });
  await hub.getByRole('button', { name: 'Accept invitation' }).click();
  await hub.getByLabel('Invitation code', { exact: true }).waitFor();
  expect(await overflowsSideways(page)).toBe(false);
  await hub.getByRole('button', { name: 'Close' }).click();
  await hub.getByRole('dialog').waitFor({ state: 'detached' });
  await hub.getByRole('button', { name: `Configure: ${name}_to_Globex` }).click();
  await hub.getByRole('textbox', { name: 'Incoming sync' }).waitFor();
  expect(await overflowsSideways(page)).toBe(false);
  await hub.getByRole('tab', { name: 'General settings' }).click();
  await hub.getByLabel('Exalate node URL').waitFor();
  expect(await overflowsSideways(page)).toBe(false);
});
