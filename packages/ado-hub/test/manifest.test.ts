import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { get } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import JSZip from 'jszip';
import { COLLECTION_ADMIN_HUB_GROUP, type ExtensionManifest } from '@exalate/simulators';
import { MANIFEST, ROOT } from './support.js';

// vss-extension.json: what Azure DevOps installs. The hub must land under Organization settings,
// every file it names must exist (the built hub included), and it asks for no more than it uses.
const manifest = JSON.parse(readFileSync(MANIFEST, 'utf8')) as ExtensionManifest & {
  icons: { default: string };
  content: { details: { path: string } };
  targets: Array<{ id: string }>;
};
const hub = manifest.contributions!.find((c) => c.type === 'ms.vss-web.hub')!;

test('contributes one hub to Organization settings, whose page is in the packaged files', () => {
  expect(manifest.contributions).toHaveLength(1);
  expect(hub.targets).toEqual([COLLECTION_ADMIN_HUB_GROUP]);
  expect(hub.properties).toMatchObject({ name: 'Exalate', uri: 'dist/ado-hub/hub.html' });
  const uri = String(hub.properties!['uri']);
  expect(manifest.files!.some((f) => f.addressable && uri.startsWith(`${f.path}/`))).toBe(true);
  expect(existsSync(join(ROOT, uri))).toBe(true);
  expect(manifest.targets).toEqual([{ id: 'Microsoft.VisualStudio.Services' }]);
});

test('every file, icon and page it names exists', () => {
  for (const f of manifest.files!) expect(existsSync(join(ROOT, f.path))).toBe(true);
  expect(statSync(join(ROOT, manifest.icons.default)).size).toBeGreaterThan(0);
  expect(readFileSync(join(ROOT, manifest.icons.default)).subarray(1, 4).toString()).toBe('PNG');
  expect(existsSync(join(ROOT, manifest.content.details.path))).toBe(true);
});

test('asks only for the profile scope: the hub reads nothing from Azure DevOps itself, the node acts with its own token', () => {
  // The access token the hub forwards is used for one thing, _apis/connectionData, which any scope allows.
  expect(manifest.scopes).toEqual(['vso.profile']);
});

test('dev and release differ only by overrides, never by contributions or files', () => {
  const dir = join(ROOT, 'packages/ado-hub/manifests');
  const overrides = readdirSync(dir).map((f) => [f, JSON.parse(readFileSync(join(dir, f), 'utf8')) as Record<string, unknown>] as const);
  expect(overrides.map(([f]) => f).sort()).toEqual(['dev.json', 'release.json']);
  for (const [, o] of overrides) {
    expect(Object.keys(o).every((k) => ['id', 'name', 'public', 'baseUri', 'version'].includes(k))).toBe(true);
  }
  const dev = Object.fromEntries(overrides)['dev.json']!;
  expect(dev['id']).not.toBe(manifest.id);
  expect(String(dev['baseUri'])).toMatch(/^https:\/\/localhost:/);
});

test('tfx packages it into a .vsix holding the manifest and the built hub', async () => {
  const out = mkdtempSync(join(tmpdir(), 'exalate-vsix-'));
  try {
    execFileSync(
      join(ROOT, 'node_modules/.bin/tfx'),
      [
        'extension',
        'create',
        '--root',
        ROOT,
        '--manifest-globs',
        'vss-extension.json',
        '--overrides-file',
        'packages/ado-hub/manifests/release.json',
        '--output-path',
        out,
        '--no-prompt',
      ],
      {
        cwd: ROOT,
        stdio: 'pipe',
      },
    );
    const vsix = readdirSync(out).find((f) => f.endsWith('.vsix'));
    expect(vsix).toBe(`${manifest.publisher}.${manifest.id}-${manifest.version}.vsix`);
    const zip = await JSZip.loadAsync(readFileSync(join(out, vsix!)));
    const names = Object.keys(zip.files);
    expect(names).toEqual(
      expect.arrayContaining(['extension.vsixmanifest', 'extension.vsomanifest', 'dist/ado-hub/hub.html', 'dist/ado-hub/hub.js', manifest.icons.default]),
    );
    // The code editor's chunk, which the hub fetches for Configure sync, travels with it.
    expect(names.filter((n) => /^dist\/ado-hub\/code-editor\.[0-9a-f]{8}\.js$/.test(n))).toHaveLength(1);
    const packaged = JSON.parse(await zip.file('extension.vsomanifest')!.async('string')) as {
      contributions: Array<{ id: string; targets: string[]; properties: Record<string, unknown> }>;
      scopes: string[];
    };
    expect(packaged.contributions[0]).toMatchObject({ id: 'exalate-hub', targets: [COLLECTION_ADMIN_HUB_GROUP], properties: { uri: 'dist/ado-hub/hub.html' } });
    expect(packaged.scopes).toEqual(['vso.profile']);
    const hubHtml = await zip.file('dist/ado-hub/hub.html')!.async('string');
    expect(hubHtml).toContain('hub.js');
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}, 60_000);

test('the simulator serves only the files the manifest packages, as the Marketplace would', async () => {
  const { AdoSimulator } = await import('@exalate/simulators');
  const sim = new AdoSimulator();
  sim.installExtension({ manifestPath: MANIFEST, contentDir: ROOT, secret: 'k', appId: '3d1e2f3a-4b5c-4d6e-8f70-8192a3b4c5d6' });
  const running = await sim.listen();
  try {
    const base = `${running.url}/_extensions/${manifest.publisher}.${manifest.id}`;
    expect((await fetch(`${base}/dist/ado-hub/hub.html`)).status).toBe(200);
    expect((await fetch(`${base}/package.json`)).status).toBe(404);
    // Sent as is (fetch would resolve the dots itself): an encoded slash keeps ".." inside one segment.
    const raw = (path: string) =>
      new Promise<number>((done, fail) => get(`${base}${path}`, (res) => (res.resume(), done(res.statusCode ?? 0))).on('error', fail));
    expect(await raw('/dist/ado-hub/..%2F..%2Fpackage.json')).toBe(404);
    expect(await raw('/dist/ado-hub/hub.html')).toBe(200);
  } finally {
    await running.close();
  }
});
