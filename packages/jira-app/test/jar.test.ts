// The built app (npm run package:jira): what Jira reads from it when an admin uploads it.
import { existsSync, readFileSync } from 'node:fs';
import JSZip from 'jszip';
import { JAR } from '../build.mjs';

let jar: JSZip;
beforeAll(async () => {
  if (!existsSync(JAR)) throw new Error(`${JAR} is missing: run "npm run package:jira" ("npm test" does).`);
  jar = await JSZip.loadAsync(readFileSync(JAR));
});

test('holds the descriptor, the servlet class, the page bundle, and none of the compile-only SAL copies', async () => {
  const names = Object.keys(jar.files);
  expect(names).toEqual(
    expect.arrayContaining([
      'atlassian-plugin.xml',
      'exalate.properties',
      'com/exalate/jira/ExalateServlet.class',
      'web/jira-admin.js',
      'web/jira-admin.css',
      'web/code-editor.js',
    ]),
  );
  // Jira provides SAL: a copy inside the jar would shadow it.
  expect(names.filter((n) => n.startsWith('com/atlassian/'))).toEqual([]);
  expect(names.filter((n) => n.endsWith('.map'))).toEqual([]);
});

test('the descriptor puts Exalate under Settings → Apps with its items, all served by the one servlet', async () => {
  const xml = await jar.file('atlassian-plugin.xml')!.async('string');
  expect(xml).toMatch(/<atlassian-plugin key="com\.exalate\.jira" name="Exalate" plugins-version="2">/);
  expect(xml).toMatch(/<version>\d+\.\d+\.\d+<\/version>/);
  expect(xml).toMatch(/<web-section key="exalate-section"[^>]* location="admin_plugins_menu"/);
  for (const item of ['connections', 'settings']) {
    expect(xml).toMatch(new RegExp(`<web-item key="exalate-${item}"[^>]* section="admin_plugins_menu/exalate-section"`));
    expect(xml).toContain(`<link linkId="exalate-${item}">/plugins/servlet/exalate/${item}</link>`);
  }
  expect(xml).toMatch(
    /<servlet key="exalate-servlet"[^>]* class="com\.exalate\.jira\.ExalateServlet">\s*<description>[^<]*<\/description>\s*<url-pattern>\/exalate\/\*<\/url-pattern>/,
  );
  for (const component of [
    'com.atlassian.sal.api.user.UserManager',
    'com.atlassian.sal.api.pluginsettings.PluginSettingsFactory',
    'com.atlassian.sal.api.ApplicationProperties',
  ]) {
    expect(xml).toContain(`interface="${component}"`);
  }
});

test('the manifest imports SAL and the javax servlet API (Jira 9 and 10), and embeds Gson', async () => {
  const manifest = (await jar.file('META-INF/MANIFEST.MF')!.async('string')).replace(/\r?\n /g, '');
  expect(manifest).toMatch(/^Bundle-SymbolicName: com\.exalate\.jira$/m);
  const imports = /^Import-Package: (.*)$/m.exec(manifest)?.[1] ?? '';
  expect(imports).toContain('com.atlassian.sal.api.user');
  expect(imports).toContain('javax.servlet.http;version="[3.1,5)"');
  expect(imports).not.toContain('com.google.gson');
  expect(Object.keys(jar.files)).toContain('com/google/gson/Gson.class');
});
