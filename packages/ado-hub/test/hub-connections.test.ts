import type { FrameLocator } from 'playwright-core';
import { adminClient, hubSuite, seedNodeUrl } from './support.js';

// The Exalate hub in the Azure DevOps simulator's Organization settings, in Chromium: the real
// SDK handshake, app tokens verified by the node, the wizard core behind every screen.
const suite = hubSuite([{ name: 'acme' }, { name: 'globex' }, { name: 'initech', private: true }]);
const open = suite.open;

async function chooseProject(hub: FrameLocator, name: string): Promise<void> {
  await hub.getByRole('heading', { name: /Select a project for the incoming sync/ }).waitFor();
  await hub.getByRole('button', { name: /^Please select the project where you want to create/ }).click();
  await hub.getByRole('option', { name }).click();
}

async function statusOf(hub: FrameLocator, connection: string): Promise<string> {
  return (await hub.locator(`tr[data-connection="${connection}"] [data-testid="status"]`).textContent()) ?? '';
}

/** Initiates from `org`'s hub and returns the invitation code, read from the clipboard after "Copy invitation code". */
async function initiate(org: string, o: { destination: string | null; local: string; remote: string }): Promise<string> {
  const { hub, page } = await open(org);
  // The guide's words: the subtitle, then "Initiate connection" opens a dialog of that name.
  await hub.getByText('Connection defines synchronization behavior, including communication details, sync rules, and scope.').waitFor();
  await hub.getByRole('button', { name: 'Initiate connection' }).click();
  const dialog = hub.getByRole('dialog');
  await dialog.getByText('Initiate connection').first().waitFor();
  if (o.destination === null) await hub.getByRole('switch', { name: /I don't have a URL/ }).click();
  else {
    await hub.getByLabel('Destination instance URL').fill(o.destination);
    // Leaving the field asks the destination; the configuration type is chosen on the same screen.
    await hub.getByRole('radio', { name: /^Script/ }).click();
    await hub.getByTestId('destination-found').waitFor();
  }
  await hub.getByRole('radio', { name: /^Script/ }).click();
  await hub.getByRole('button', { name: 'Next' }).click();
  await hub.getByRole('heading', { name: /Connection information/ }).waitFor();
  await hub.getByLabel('Local instance short name').fill(o.local);
  await hub.getByLabel(o.destination === null ? 'Destination instance short name' : 'Remote instance short name').fill(o.remote);
  await hub.getByRole('button', { name: 'Next' }).click();
  await chooseProject(hub, 'Development');
  await hub.getByRole('button', { name: 'Initiate', exact: true }).click();
  await hub.getByText(new RegExp(`^Ensure that Exalate is installed on the destination side "${o.destination === null ? 'unknown' : '[^"]+'}"$`)).waitFor();
  if (o.destination === null) await hub.getByText(/As this is a Public-Private connection/).waitFor();
  await hub.getByRole('button', { name: 'Copy invitation code', exact: true }).click();
  await hub.getByRole('status').getByText('Invitation code copied').waitFor();
  const code = (await page.evaluate('navigator.clipboard.readText()')) as string;
  expect(code).toBe(await hub.getByLabel('Use the following invitation code:').inputValue());
  await hub.getByRole('button', { name: 'Done' }).click();
  await hub.getByRole('table', { name: 'Connections' }).waitFor();
  const name = `${o.local}_to_${o.remote}`;
  expect(await statusOf(hub, name)).toBe('Pending');
  // While Pending, the list gives the same code again.
  await page.evaluate("navigator.clipboard.writeText('')");
  await hub.getByRole('button', { name: `Copy invitation code: ${name}` }).click();
  await hub.getByRole('status').getByText('Invitation code copied').waitFor();
  expect(await page.evaluate('navigator.clipboard.readText()')).toBe(code);
  return code;
}

async function accept(org: string, code: string, connection: string): Promise<void> {
  const { hub } = await open(org);
  await hub.getByRole('button', { name: 'Accept invitation' }).click();
  await hub.getByRole('heading', { name: /Please paste the invitation code, received from your partner/ }).waitFor();
  await hub.getByPlaceholder('Enter the invitation code').fill(code);
  await hub.getByRole('button', { name: 'Next' }).click();
  // The code's preview on the project step, above the project, where Confirm is.
  await expect(hub.getByTestId('invitation-preview').textContent()).resolves.toContain(connection);
  await chooseProject(hub, 'Operations');
  await hub.getByRole('button', { name: 'Confirm' }).click();
  await hub.getByRole('heading', { name: 'Congratulations!' }).waitFor();
  await hub.getByText('Connection is established.').waitFor();
  await hub.getByRole('button', { name: 'Configure Sync' }).waitFor();
  await hub.getByRole('button', { name: 'Close' }).click();
  await hub.locator(`tr[data-connection="${connection}"]`).waitFor();
  expect(await statusOf(hub, connection)).toBe('Active');
}

/** acme initiates a public connection to globex and globex accepts it, each in its hub. */
async function connectAcmeToGlobex(local: string): Promise<string> {
  seedNodeUrl(suite.org('acme'));
  seedNodeUrl(suite.org('globex'));
  const code = await initiate('acme', { destination: suite.org('globex').nodeUrl, local, remote: 'Globex' });
  await accept('globex', code, `${local}_to_Globex`);
  return `${local}_to_Globex`;
}

test('initiates a public connection, and the second organization accepts it: both sides Active', async () => {
  await connectAcmeToGlobex('Acme');
  const { hub } = await open('acme');
  await hub.getByRole('table', { name: 'Connections' }).waitFor();
  expect(await statusOf(hub, 'Acme_to_Globex')).toBe('Active');
});

test('initiates for a private partner ("I don\'t have a URL"); the private organization accepts: both sides Active', async () => {
  const [acme, initech] = [suite.org('acme'), suite.org('initech')];
  seedNodeUrl(acme);
  seedNodeUrl(initech);
  const code = await initiate('acme', { destination: null, local: 'AcmeOps', remote: 'Initech' });
  await accept('initech', code, 'AcmeOps_to_Initech');
  const { hub } = await open('acme');
  await hub.getByRole('table', { name: 'Connections' }).waitFor();
  expect(await statusOf(hub, 'AcmeOps_to_Initech')).toBe('Active');
  expect(await hub.locator('tr[data-connection="AcmeOps_to_Initech"]').textContent()).toContain('private');
});

test('a bad invitation code is refused at once with what to do, and nothing is accepted', async () => {
  seedNodeUrl(suite.org('acme'));
  seedNodeUrl(suite.org('globex'));
  const { hub } = await open('globex');
  await hub.getByRole('button', { name: 'Accept invitation' }).click();
  await hub.getByPlaceholder('Enter the invitation code').fill('this is not an invitation code');
  await hub.getByRole('button', { name: 'Next' }).click();
  // Said once, under the field, with its code.
  await hub.getByText(/\(INVITATION_CODE_NOT_RECOGNIZED\)$/).waitFor();
  expect(await hub.getByText(/not an Exalate invitation code|not recogni/i).count()).toBe(1);
  // No banner repeats it.
  expect(await hub.locator('.exalate-banner').count()).toBe(0);
  await expect(hub.getByRole('heading', { name: /Step 1 of 2/ }).isVisible()).resolves.toBe(true);

  // A code that passes the format check but was damaged (one character changed in the body).
  const real = await initiate('acme', { destination: suite.org('globex').nodeUrl, local: 'Damaged', remote: 'Globex' });
  const damaged = real.slice(0, 60) + (real[60] === 'A' ? 'B' : 'A') + real.slice(61);
  const again = await open('globex');
  await again.hub.getByRole('button', { name: 'Accept invitation' }).click();
  await again.hub.getByPlaceholder('Enter the invitation code').fill(damaged);
  await again.hub.getByRole('button', { name: 'Next' }).click();
  await again.hub.getByText(/\(INVITATION_CODE_DAMAGED\)$/).waitFor();
  expect(await again.hub.getByText(/INVITATION_CODE_DAMAGED/).count()).toBe(1);
  const listed = await adminClient(suite.org('globex')).listConnections();
  expect(listed.ok && listed.value.connections.map((c) => c.name)).not.toContain('Damaged_to_Globex');
});

test('an unreachable destination URL is reported on the destination step, with the private-partner way out', async () => {
  seedNodeUrl(suite.org('acme'));
  const { hub } = await open('acme');
  await hub.getByRole('button', { name: 'Initiate connection' }).click();
  await hub.getByLabel('Destination instance URL').fill('http://127.0.0.1:9/nodes/nowhere');
  await hub.getByRole('button', { name: 'Next' }).click();
  await expect(hub.getByRole('alert').first().textContent()).resolves.toMatch(/DESTINATION_UNREACHABLE/);
  await expect(hub.getByRole('heading', { name: /Step 1 of 4: Destination instance URL/ }).isVisible()).resolves.toBe(true);
  await hub.getByRole('switch', { name: /I don't have a URL/ }).click();
  await hub.getByRole('button', { name: 'Next' }).click();
  await hub.getByRole('heading', { name: /Step 2 of 4: Connection information/ }).waitFor();
  // × closes the dialog; nothing was created.
  await hub.getByRole('button', { name: 'Close' }).click();
  expect(await hub.getByRole('dialog').count()).toBe(0);
});

test('from the list: deactivate, activate and delete a connection (after confirming)', async () => {
  const row = await connectAcmeToGlobex('Lifecycle');
  const { hub, page } = await open('acme');
  await hub.locator(`tr[data-connection="${row}"]`).waitFor();
  await hub.getByRole('button', { name: `Deactivate: ${row}` }).click();
  await hub.getByRole('status').getByText('Connection deactivated').waitFor();
  expect(await statusOf(hub, row)).toBe('Deactivated');
  await hub.getByRole('button', { name: `Activate: ${row}` }).click();
  await hub.getByRole('status').getByText('Connection activated').waitFor();
  expect(await statusOf(hub, row)).toBe('Active');

  // Delete asks in a dialog of the page (never the browser's confirm()): Cancel keeps the connection, Delete deletes it.
  let browserDialogs = 0;
  page.on('dialog', (d) => {
    browserDialogs += 1;
    void d.dismiss();
  });
  await hub.getByRole('button', { name: `Delete: ${row}` }).click();
  const ask = hub.getByRole('dialog');
  await ask.getByText(`Delete the connection "${row}"?`).waitFor();
  await ask.getByRole('button', { name: 'Cancel' }).click();
  expect(await hub.getByRole('dialog').count()).toBe(0);
  expect(await statusOf(hub, row)).toBe('Active');
  await hub.getByRole('button', { name: `Delete: ${row}` }).click();
  await hub.getByRole('dialog').getByRole('button', { name: 'Delete', exact: true }).click();
  await hub.getByRole('status').getByText('Connection deleted').waitFor();
  expect(browserDialogs).toBe(0);
  expect(await hub.locator(`tr[data-connection="${row}"]`).count()).toBe(0);
});

test('the list follows the partner: a Pending connection turns Active on the page when the partner accepts, without a reload', async () => {
  const [acme, globex] = [suite.org('acme'), suite.org('globex')];
  seedNodeUrl(acme);
  seedNodeUrl(globex);
  const started = await adminClient(acme).initiateConnection({
    destinationUrl: globex.nodeUrl,
    mode: 'SCRIPT',
    localShortName: 'Follow',
    remoteShortName: 'Globex',
    description: '',
    project: 'Development',
  });
  if (!started.ok) throw new Error(started.error.message);
  const { hub } = await open('acme');
  const row = hub.locator('tr[data-connection="Follow_to_Globex"]');
  await row.waitFor();
  expect(await statusOf(hub, 'Follow_to_Globex')).toBe('Pending');
  // The expiry in local time with its zone, not an ISO timestamp.
  expect(await row.textContent()).not.toMatch(/\d{4}-\d{2}-\d{2}T/);
  const accepted = await adminClient(globex).acceptInvitation({ code: started.value.invitationCode, project: 'Operations' });
  if (!accepted.ok) throw new Error(accepted.error.message);
  await row.locator('[data-testid="status"]', { hasText: 'Active' }).waitFor({ timeout: 15_000 });
});
