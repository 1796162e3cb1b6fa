import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
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
    async close() {
      clearInterval(timer);
      save();
      await Promise.allSettled(running.map((r) => r.close()));
    },
  };
}
