import { existsSync, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { convertText } from '@exalate/connectors';
import { AdoSimulator, JiraSimulator, ServiceNowSimulator, type RunningSimulator } from '@exalate/simulators';
import type { Logger } from './logger.js';
import { createConnector, type TrackerConfig } from './trackers.js';

export interface SandboxTrackers {
  jira: TrackerConfig;
  ado: TrackerConfig;
  snow: TrackerConfig;
  /** A few items in each tracker, the first time the sandbox starts. */
  seedDemoData(): Promise<void>;
  /**
   * Installs the built Exalate hub (vss-extension.json, dist/ado-hub) in the Azure DevOps
   * simulator, pointed at the sandbox's node; returns its Organization settings page, or null when
   * the hub is not built.
   */
  installAdoHub(o: { secret: string; appId: string; nodeUrl: string }): string | null;
  /** Saves the trackers' data (next to the nodes' data) and stops them. */
  close(): Promise<void>;
}

/**
 * The sandbox's trackers: the Jira Cloud, Azure DevOps and ServiceNow simulators, on the ports
 * after the node server's (or free ports), keeping their data under `dir` across restarts.
 */
export async function startSandboxTrackers(dir: string, firstPort: number, logger: Logger): Promise<SandboxTrackers> {
  mkdirSync(dir, { recursive: true });
  const files = { jira: join(dir, 'jira-cloud.json'), ado: join(dir, 'azure-devops.json'), snow: join(dir, 'servicenow.json') };
  const fresh = !existsSync(files.jira) && !existsSync(files.ado) && !existsSync(files.snow);
  const jira = new JiraSimulator({ stateFile: files.jira, seed: { flavor: 'cloud' } });
  const ado = new AdoSimulator({ stateFile: files.ado });
  const snow = new ServiceNowSimulator({ stateFile: files.snow });
  const running: RunningSimulator[] = [];
  const port = (i: number) => (firstPort === 0 ? 0 : firstPort + i);
  try {
    running.push(await jira.listen(port(0)), await ado.listen(port(1)), await snow.listen(port(2)));
  } catch (error) {
    await Promise.allSettled(running.map((r) => r.close()));
    throw error;
  }
  const [jiraUrl, adoUrl, snowUrl] = running.map((r) => r.url) as [string, string, string];
  const trackers = {
    jira: { kind: 'jira-cloud', url: jiraUrl, user: 'sync@acme.example', secret: 'sync-token' },
    ado: { kind: 'azure-devops', url: `${adoUrl}/${ado.organization}`, secret: 'sync-pat' },
    snow: { kind: 'servicenow', url: snowUrl, user: 'exalate', secret: 'exalate-password' },
  } satisfies Record<string, TrackerConfig>;
  // Saved every few seconds too, so a killed sandbox loses little.
  const save = () => [jira, ado, snow].forEach((s) => s.save());
  const timer = setInterval(save, 5_000);
  timer.unref();
  return {
    ...trackers,
    async seedDemoData() {
      if (!fresh) return;
      const demo = [
        { tracker: trackers.jira, project: 'SUP', type: 'Bug', text: { format: 'jira-wiki' as const, value: 'The checkout page *times out* after 30 seconds.' } },
        { tracker: trackers.ado, project: 'Development', type: 'Bug', text: { format: 'html' as const, value: '<p>Export to CSV drops the <strong>last row</strong>.</p>' } },
        { tracker: trackers.snow, project: 'incident', type: 'incident', text: { format: 'plain' as const, value: 'Printer on floor 3 is offline.' } },
      ];
      for (const d of demo) {
        const connector = createConnector(d.tracker);
        const summary = d.tracker === trackers.snow ? 'Printer on floor 3 is offline' : d.tracker === trackers.ado ? 'CSV export loses a row' : 'Checkout times out';
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
    async close() {
      clearInterval(timer);
      save();
      await Promise.allSettled(running.map((r) => r.close()));
    },
  };
}
