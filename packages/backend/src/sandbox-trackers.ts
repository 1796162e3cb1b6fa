import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { convertText } from '@exalate/connectors';
import { AdoSimulator, JiraSimulator, ServiceNowSimulator, type RunningSimulator } from '@exalate/simulators';
import type { Logger } from './logger.js';
import { createConnector, type TrackerConfig } from './trackers.js';

export interface SandboxTrackers {
  jira: TrackerConfig;
  ado: TrackerConfig;
  snow: TrackerConfig;
  /** A Jira Data Center, where the Exalate app is installed from its jar (installJiraApp). */
  jiradc: TrackerConfig;
  /** A few items in each tracker, the first time the sandbox starts. */
  seedDemoData(): Promise<void>;
  /**
   * Installs the built Exalate hub (vss-extension.json, dist/ado-hub) in the Azure DevOps
   * simulator, pointed at the sandbox's node; returns its Organization settings page, or null when
   * the hub is not built.
   */
  installAdoHub(o: { secret: string; appId: string; nodeUrl: string }): string | null;
  /**
   * Installs the built Exalate app (dist/exalate-jira-*.jar) in the Jira Data Center and pairs it
   * with its node as an admin would (a pairing code from the node, pasted in General settings by a
   * signed-in Jira system administrator); returns its Connections page, or null when the jar or the
   * harness is not built (no JDK on this machine).
   */
  installJiraApp(o: { nodeUrl: string; adminToken: string }): Promise<string | null>;
  /**
   * Commits the built Exalate application's update set (dist/exalate-servicenow-*-update-set.xml)
   * in the ServiceNow instance and pairs it with its node as an admin would (a pairing code from the
   * node, pasted in All → Exalate → Settings); returns the page's address, or null when not built.
   */
  installServiceNowApp(o: { nodeUrl: string; adminToken: string }): Promise<string | null>;
  /** Saves the trackers' data (next to the nodes' data) and stops them. */
  close(): Promise<void>;
}

/**
 * The sandbox's trackers: the Jira Cloud, Azure DevOps and ServiceNow simulators, on the ports
 * after the node server's (or free ports), keeping their data under `dir` across restarts.
 */
export async function startSandboxTrackers(dir: string, firstPort: number, logger: Logger): Promise<SandboxTrackers> {
  mkdirSync(dir, { recursive: true });
  const files = {
    jira: join(dir, 'jira-cloud.json'),
    ado: join(dir, 'azure-devops.json'),
    snow: join(dir, 'servicenow.json'),
    jiradc: join(dir, 'jira-datacenter.json'),
  };
  const fresh = !existsSync(files.jira) && !existsSync(files.ado) && !existsSync(files.snow);
  const freshDc = !existsSync(files.jiradc);
  const jira = new JiraSimulator({ stateFile: files.jira, seed: { flavor: 'cloud' } });
  const ado = new AdoSimulator({ stateFile: files.ado });
  const snow = new ServiceNowSimulator({ stateFile: files.snow });
  const jiradc = new JiraSimulator({ stateFile: files.jiradc, seed: { flavor: 'datacenter' } });
  const running: RunningSimulator[] = [];
  const port = (i: number) => (firstPort === 0 ? 0 : firstPort + i);
  try {
    running.push(await jira.listen(port(0)), await ado.listen(port(1)), await snow.listen(port(2)), await jiradc.listen(port(3)));
  } catch (error) {
    await Promise.allSettled(running.map((r) => r.close()));
    throw error;
  }
  const [jiraUrl, adoUrl, snowUrl, jiradcUrl] = running.map((r) => r.url) as [string, string, string, string];
  const trackers = {
    jira: { kind: 'jira-cloud', url: jiraUrl, user: 'sync@acme.example', secret: 'sync-token' },
    ado: { kind: 'azure-devops', url: `${adoUrl}/${ado.organization}`, secret: 'sync-pat' },
    snow: { kind: 'servicenow', url: snowUrl, user: 'exalate', secret: 'exalate-password' },
    jiradc: { kind: 'jira-datacenter', url: jiradcUrl, secret: 'sync-pat' },
  } satisfies Record<string, TrackerConfig>;
  // Saved every few seconds too, so a killed sandbox loses little.
  const save = () => [jira, ado, snow, jiradc].forEach((s) => s.save());
  const timer = setInterval(save, 5_000);
  timer.unref();
  return {
    ...trackers,
    async seedDemoData() {
      if (!fresh && !freshDc) return;
      const demo: Array<{ tracker: TrackerConfig; project: string; type: string; text: Parameters<typeof convertText>[0] }> = !fresh
        ? []
        : [
            {
              tracker: trackers.jira,
              project: 'SUP',
              type: 'Bug',
              text: { format: 'jira-wiki' as const, value: 'The checkout page *times out* after 30 seconds.' },
            },
            {
              tracker: trackers.ado,
              project: 'Development',
              type: 'Bug',
              text: { format: 'html' as const, value: '<p>Export to CSV drops the <strong>last row</strong>.</p>' },
            },
            { tracker: trackers.snow, project: 'incident', type: 'incident', text: { format: 'plain' as const, value: 'Printer on floor 3 is offline.' } },
          ];
      if (freshDc)
        demo.push({
          tracker: trackers.jiradc,
          project: 'SUP',
          type: 'Task',
          text: { format: 'jira-wiki' as const, value: 'Invoices show the *old* address.' },
        });
      for (const d of demo) {
        const connector = createConnector(d.tracker);
        const summary =
          d.tracker === trackers.snow
            ? 'Printer on floor 3 is offline'
            : d.tracker === trackers.ado
              ? 'CSV export loses a row'
              : d.tracker === trackers.jiradc
                ? 'Invoice address outdated'
                : 'Checkout times out';
        const description = convertText(d.text, connector.textFormat);
        const made = await connector.createItem({ project: d.project, type: d.type, summary, description, labels: ['demo'] });
        await connector.addComment(made.key, convertText({ format: 'plain', value: 'Seen by two customers so far.' }, connector.textFormat));
      }
      save();
      logger.info('sandbox trackers seeded with demo items');
    },
    installAdoHub(o) {
      const root = resolve(import.meta.dirname, '../../..');
      const manifestPath = join(root, 'vss-extension.json');
      if (!existsSync(join(root, 'dist/ado-hub/hub.html'))) {
        logger.warn('the Azure DevOps hub is not built (npm run build:ado), so the sandbox shows no Exalate page in Organization settings');
        return null;
      }
      const extension = ado.installExtension({ manifestPath, contentDir: root, secret: o.secret, appId: o.appId });
      ado.extensions.seedSetting(extension, 'exalate-settings', { nodeUrl: o.nodeUrl });
      const hub = extension.manifest.contributions?.find((c) => c.targets?.includes('ms.vss-web.collection-admin-hub-group'));
      return `${adoUrl}/${ado.organization}/_settings/${extension.manifest.publisher}.${extension.manifest.id}.${hub?.id ?? ''}`;
    },
    async installJiraApp(o) {
      const root = resolve(import.meta.dirname, '../../..');
      const build = (await import(pathToFileURL(join(root, 'packages/jira-app/build.mjs')).href)) as {
        JAR: string;
        HARNESS_CLASSPATH: string;
        harnessBuilt(): boolean;
      };
      if (!existsSync(build.JAR) || !build.harnessBuilt()) {
        logger.warn(
          "the Exalate app for Jira Data Center is not built (npm run package:jira needs a JDK), so the sandbox's Jira Data Center has no Exalate page",
        );
        return null;
      }
      await jiradc.installApp({ jar: build.JAR, harnessClasspath: build.HARNESS_CLASSPATH, baseUrl: jiradcUrl });
      // The node's operator makes a pairing code; a Jira system administrator pastes it in the app.
      const issued = await fetch(`${o.nodeUrl}/api/v1/settings/tracker-app/pairing-code`, {
        method: 'POST',
        headers: { authorization: `Bearer ${o.adminToken}`, 'content-type': 'application/json' },
        body: '{}',
      });
      const { pairingCode } = (await issued.json()) as { pairingCode: string };
      const login = await fetch(`${jiradcUrl}/login.jsp`, {
        method: 'POST',
        body: new URLSearchParams({ os_username: 'alice', os_password: 'alice-password', os_destination: '/' }),
        redirect: 'manual',
      });
      const cookie = (login.headers.get('set-cookie') ?? '').split(';')[0]!;
      const paired = await fetch(`${jiradcUrl}/plugins/servlet/exalate/api/pair`, {
        method: 'POST',
        headers: { cookie, 'X-Atlassian-Token': 'no-check', 'content-type': 'application/json' },
        body: JSON.stringify({ pairingCode }),
      });
      if (!paired.ok) logger.warn({ status: paired.status }, 'the sandbox could not pair the Exalate app with its node');
      return `${jiradcUrl}/plugins/servlet/exalate/connections`;
    },
    async installServiceNowApp(o) {
      const root = resolve(import.meta.dirname, '../../..');
      const build = (await import(pathToFileURL(join(root, 'packages/servicenow-app/build.mjs')).href)) as { UPDATE_SET: string };
      if (!existsSync(build.UPDATE_SET)) {
        logger.warn("the Exalate application for ServiceNow is not built (npm run package:servicenow), so the sandbox's instance has no Exalate menu");
        return null;
      }
      snow.installApp(readFileSync(build.UPDATE_SET, 'utf8'));
      const admin = `Basic ${Buffer.from('admin:admin-password').toString('base64')}`;
      const api = `${snowUrl}/api/x_exalate_sync/exalate`;
      const settings = (await (await fetch(`${api}/settings`, { headers: { authorization: admin } })).json()) as { result?: { nodeUrl: string | null } };
      // Paired already on an earlier start (the instance keeps its settings): nothing to do.
      if (settings.result?.nodeUrl !== o.nodeUrl) {
        const issued = await fetch(`${o.nodeUrl}/api/v1/settings/tracker-app/pairing-code`, {
          method: 'POST',
          headers: { authorization: `Bearer ${o.adminToken}`, 'content-type': 'application/json' },
          body: '{}',
        });
        const { pairingCode } = (await issued.json()) as { pairingCode: string };
        const paired = await fetch(`${api}/pair`, {
          method: 'POST',
          headers: { authorization: admin, 'content-type': 'application/json' },
          body: JSON.stringify({ pairingCode }),
        });
        if (!paired.ok) logger.warn({ status: paired.status }, 'the sandbox could not pair the Exalate application with its node');
      }
      return `${snowUrl}/now/nav/ui/classic/params/target/${encodeURIComponent('x_exalate_sync_exalate.do?sysparm_tab=connections')}`;
    },
    async close() {
      clearInterval(timer);
      save();
      await jiradc.close();
      await Promise.allSettled(running.map((r) => r.close()));
    },
  };
}
