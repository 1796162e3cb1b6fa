import { resolve } from 'node:path';
import { AdoSimulator } from './ado/simulator.js';
import type { RunningSimulator } from './common/http.js';
import { JiraSimulator } from './jira/simulator.js';
import { ServiceNowSimulator } from './servicenow/simulator.js';

export interface SimulatorCliOptions {
  tracker: string;
  port: number;
  stateFile: string | null;
  rateLimit: { limit: number; windowMs: number } | null;
}

const USAGE = 'Usage: node scripts/simulator.js <ado | jira-cloud | jira-dc | servicenow> [--port N] [--state FILE] [--rate-limit REQUESTS/SECONDS]';

/** Parses the simulator command line; throws with the usage on anything it does not understand. */
export function parseSimulatorArgs(argv: string[]): SimulatorCliOptions {
  const [tracker, ...rest] = argv;
  if (!tracker || tracker.startsWith('-')) throw new Error(USAGE);
  const options: SimulatorCliOptions = { tracker, port: 0, stateFile: null, rateLimit: null };
  for (let i = 0; i < rest.length; i++) {
    const flag = rest[i];
    const value = rest[i + 1];
    if (value === undefined) throw new Error(`${flag} needs a value. ${USAGE}`);
    i++;
    if (flag === '--port' && /^[0-9]+$/.test(value)) options.port = Number(value);
    else if (flag === '--state') options.stateFile = resolve(value);
    else if (flag === '--rate-limit' && /^[0-9]+\/[0-9]+$/.test(value)) {
      const [limit, seconds] = value.split('/').map(Number) as [number, number];
      options.rateLimit = { limit, windowMs: seconds * 1000 };
    } else throw new Error(`Unknown option ${flag} ${value}. ${USAGE}`);
  }
  return options;
}

/** Starts one simulator; `save` writes its state file (when it has one). */
export async function startSimulator(o: SimulatorCliOptions): Promise<{ running: RunningSimulator; describe: string[]; save: () => void }> {
  if (o.tracker === 'ado') {
    const sim = new AdoSimulator({ ...(o.stateFile ? { stateFile: o.stateFile } : {}), ...(o.rateLimit ? { rateLimit: o.rateLimit } : {}) });
    const running = await sim.listen(o.port);
    const tokens = Object.entries(sim.state.tokens).map(([pat, id]) => `${pat} (${sim.state.identities.find((i) => i.id === id)?.uniqueName})`);
    return {
      running,
      save: () => (o.stateFile ? sim.save() : undefined),
      describe: [
        `Azure DevOps simulator: organization ${running.url}/${sim.organization}`,
        `  projects: ${sim.state.projects.map((p) => `${p.name} (${p.process})`).join(', ')}`,
        `  personal access tokens: ${tokens.join(', ')}`,
        `  try: curl -u :alice-pat "${running.url}/${sim.organization}/_apis/projects?api-version=7.1"`,
      ],
    };
  }
  const common = { ...(o.stateFile ? { stateFile: o.stateFile } : {}), ...(o.rateLimit ? { rateLimit: o.rateLimit } : {}) };
  if (o.tracker === 'jira-cloud' || o.tracker === 'jira-dc') {
    const sim = new JiraSimulator({ ...common, seed: { flavor: o.tracker === 'jira-cloud' ? 'cloud' : 'datacenter' } });
    const running = await sim.listen(o.port);
    const cloud = sim.flavor === 'cloud';
    return {
      running,
      save: () => (o.stateFile ? sim.save() : undefined),
      describe: [
        `Jira ${cloud ? 'Cloud (REST v3, ADF)' : 'Data Center (REST v2, wiki markup)'} simulator: ${running.url}`,
        `  projects: ${sim.state.projects.map((p) => `${p.key} (${p.name})`).join(', ')}`,
        cloud
          ? '  API tokens: alice@acme.example / alice-token, sync@acme.example / sync-token (basic auth)'
          : '  users: alice / alice-password, sync / sync-password (basic auth); personal access token sync-pat (bearer)',
        `  try: curl -u ${cloud ? 'alice@acme.example:alice-token' : 'alice:alice-password'} "${running.url}${sim.apiPath}/myself"`,
      ],
    };
  }
  if (o.tracker === 'servicenow') {
    const sim = new ServiceNowSimulator(common);
    const running = await sim.listen(o.port);
    return {
      running,
      save: () => (o.stateFile ? sim.save() : undefined),
      describe: [
        `ServiceNow simulator: ${running.url}`,
        '  tables: incident, problem, change_request, sc_task, sys_user, sys_user_group, sys_journal_field, sys_choice',
        '  users: admin / admin-password, exalate / exalate-password (basic auth); OAuth token exalate-oauth-token (bearer)',
        `  try: curl -u admin:admin-password "${running.url}/api/now/table/incident?sysparm_limit=1"`,
      ],
    };
  }
  throw new Error(`There is no simulator "${o.tracker}". ${USAGE}`);
}
