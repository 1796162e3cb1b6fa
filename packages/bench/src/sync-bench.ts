/**
 * npm run bench [-- N]: how fast the sync is, in figures (never a pass/fail).
 *
 * Jira Cloud → Azure DevOps, both simulated in this process; the Exalate server (two nodes on the
 * embedded database) runs as its own process, as in production, so its memory is its own. Once
 * over a public–public connection and once with the Azure DevOps node private.
 *
 * - Latency: items (each with a comment) are created at a steady pace; for each, the time from the
 *   comment being added in Jira to the item and its comment being in Azure DevOps (seen through a
 *   service hook of the simulator, read from its memory: no API calls of ours).
 * - Throughput: N items with a comment each already exist; a bulk sync takes them all. Items per
 *   second, and API calls per item (both trackers' calls, minus none: the bench makes none then).
 *   It starts once the nodes are idle after the webhooks that creating those items sent.
 * - Baseline: the same N items copied by hand with the fewest calls (read the Jira issue with its
 *   comments; create the work item; add the comment), 4 at a time like the sync's workers, with
 *   the nodes stopped and their service hooks removed (the bench's own stays, as in the sync).
 * - Peak RSS of the Exalate process (VmHWM).
 * - CPU per item: of the node processes, of this process (the simulated trackers) during the sync,
 *   and of this process during the baseline (the simulators and the direct copy's clients). The two
 *   cores are shared by all three, so these explain the times.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir, cpus } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { AdoConnector, JiraConnector, convertText, type TrackerConnector } from '@exalate/connectors';
import { AdoSimulator, JiraSimulator } from '@exalate/simulators';
import { ms, percentile, pool } from './stats.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '../../..');
const N = Number(process.argv[2] ?? process.env['BENCH_ITEMS'] ?? 1000);
const LATENCY_ITEMS = Math.min(N, Number(process.env['BENCH_LATENCY_ITEMS'] ?? 200));
const LATENCY_RATE_PER_S = 20;
const BASELINE_CONCURRENCY = 4;
/** The Azure DevOps simulator's tokens (README): the admin's, and the one the node and the baseline use. */
const ADO_ADMIN_PAT = 'alice-pat';
const ADO_SYNC_PAT = 'sync-pat';
if (!Number.isInteger(N) || N < 1) {
  console.error('Usage: npm run bench -- [number of items, default 1000]');
  process.exit(2);
}

interface Figures {
  /** CPU time of the node process per synced item (bulk phase). */
  cpuMsPerItem: number;
  /** CPU time of this process (the simulated trackers) per synced item (bulk phase). */
  trackerCpuMsPerItem: number;
  /** CPU time of this process per item during the baseline: the simulated trackers and the direct copy's clients. */
  baselineCpuMsPerItem: number;
  itemsPerSecond: number;
  p50: number;
  p95: number;
  callsPerItem: number;
  peakRssMb: number;
  syncMs: number;
  baselineMs: number;
}

const sleep = (n: number) => new Promise((r) => setTimeout(r, n));
const body = (req: IncomingMessage) =>
  new Promise<string>((resolve) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
  });

async function waitFor<T>(what: string, check: () => Promise<T | undefined> | T | undefined, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(25);
  }
}

/**
 * Deletes every service hook subscription but the bench's own.
 * https://learn.microsoft.com/rest/api/azure/devops/hooks/subscriptions/list?view=azure-devops-rest-7.1
 */
async function removeNodeHooks(organizationUrl: string, benchHookUrl: string): Promise<void> {
  const headers = { authorization: `Basic ${Buffer.from(`:${ADO_ADMIN_PAT}`).toString('base64')}` };
  const listed = await fetch(`${organizationUrl}/_apis/hooks/subscriptions?api-version=7.1`, { headers });
  if (!listed.ok) throw new Error(`listing the service hooks: ${listed.status} ${await listed.text()}`);
  const { value } = (await listed.json()) as { value: Array<{ id: string; consumerInputs?: { url?: string } }> };
  for (const s of value.filter((s) => s.consumerInputs?.url !== benchHookUrl)) {
    const deleted = await fetch(`${organizationUrl}/_apis/hooks/subscriptions/${s.id}?api-version=7.1`, { method: 'DELETE', headers });
    if (!deleted.ok) throw new Error(`deleting service hook ${s.id}: ${deleted.status} ${await deleted.text()}`);
  }
}

async function run(mode: 'public' | 'private'): Promise<Figures> {
  const work = mkdtempSync(join(tmpdir(), 'exalate-bench-'));
  const jira = new JiraSimulator({ seed: { flavor: 'cloud' } });
  const ado = new AdoSimulator();
  const jiraRun = await jira.listen();
  const adoRun = await ado.listen();
  const adoUrl = `${adoRun.url}/${ado.organization}`;
  const alice = new JiraConnector({ baseUrl: jiraRun.url, deployment: 'cloud', auth: { email: 'alice@acme.example', apiToken: 'alice-token' } });
  const syncJira = new JiraConnector({ baseUrl: jiraRun.url, deployment: 'cloud', auth: { email: 'sync@acme.example', apiToken: 'sync-token' } });
  const adoAdmin = new AdoConnector({ organizationUrl: adoUrl, personalAccessToken: ADO_ADMIN_PAT });

  // Visibility in Azure DevOps: a service hook to this process; the item is there once it has its comment.
  const visibleAt = new Map<string, number>();
  // Counted as they arrive: checking all N titles every few milliseconds would take CPU from the
  // sync it measures (this process shares the two cores with the nodes).
  let bulkVisible = 0;
  const hook = createServer((req, res) => {
    void body(req).then((raw) => {
      const now = Date.now();
      const headers = Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k, Array.isArray(v) ? v.join(', ') : v]));
      for (const event of adoAdmin.parseWebhook({ body: JSON.parse(raw) as unknown, rawBody: raw, headers }, 'bench-secret')) {
        const item = ado.state.workItems[event.key];
        const title = String(item?.fields['System.Title'] ?? '');
        if (item && !visibleAt.has(title) && (ado.state.comments[event.key]?.length ?? 0) > 0) {
          visibleAt.set(title, now);
          if (title.startsWith('bulk ')) bulkVisible += 1;
        }
      }
      res.writeHead(200).end();
    });
  });
  await new Promise<void>((r) => hook.listen(0, '127.0.0.1', r));
  await adoAdmin.subscribe({ url: `http://127.0.0.1:${(hook.address() as AddressInfo).port}/`, secret: 'bench-secret' });

  // Each node is its own process, as deployed (one per tracker installation), so each one's
  // memory and CPU are its own.
  const freePort = () =>
    new Promise<number>((resolve) => {
      const s = createServer().listen(0, '127.0.0.1', () => {
        const p = (s.address() as AddressInfo).port;
        s.close(() => resolve(p));
      });
    });
  const adminToken = { a: 'bench-admin-token-a-0123456789', b: 'bench-admin-token-b-0123456789' } as const;
  const trackers = {
    a: { kind: 'jira-cloud', url: jiraRun.url, user: 'sync@acme.example', secretEnv: 'TRACKER_SECRET' },
    b: { kind: 'azure-devops', url: adoUrl, secretEnv: 'TRACKER_SECRET' },
  } as const;
  const nodes: Record<'a' | 'b', { port: number; child: ChildProcess }> = {} as never;
  for (const id of ['a', 'b'] as const) {
    const port = await freePort();
    const nodesFile = join(work, `nodes-${id}.json`);
    writeFileSync(nodesFile, JSON.stringify([{ id, tracker: trackers[id], private: id === 'b' && mode === 'private', adminTokenEnv: 'ADMIN_TOKEN' }]));
    const env = {
      ...process.env,
      EXALATE_NODES_FILE: nodesFile,
      EXALATE_PORT: String(port),
      EXALATE_DATA_DIR: join(work, `data-${id}`),
      EXALATE_PEER_ALLOW_LOOPBACK: 'true',
      EXALATE_LOG_LEVEL: 'warn',
      TRACKER_SECRET: id === 'a' ? 'sync-token' : ADO_SYNC_PAT,
      ADMIN_TOKEN: adminToken[id],
    };
    const args = [...(process.env['BENCH_NODE_ARGS']?.split(' ').filter(Boolean) ?? []), join(ROOT, 'scripts/start.js')];
    nodes[id] = { port, child: spawn(process.execPath, args, { env, stdio: ['ignore', 'ignore', 'inherit'] }) };
  }
  const stopNodes = () =>
    Promise.all(
      Object.values(nodes).map(({ child }) => {
        if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
        child.kill('SIGTERM');
        return new Promise<void>((r) => child.once('exit', () => r()));
      }),
    );
  const base = (node: 'a' | 'b') => `http://127.0.0.1:${nodes[node].port}/nodes/${node}`;
  const api = async (node: 'a' | 'b', method: string, path: string, payload?: unknown) => {
    const res = await fetch(`${base(node)}/api/v1${path}`, {
      method,
      headers: { authorization: `Bearer ${adminToken[node]}`, 'content-type': 'application/json' },
      ...(payload === undefined ? {} : { body: JSON.stringify(payload) }),
    });
    const text = await res.text();
    if (!res.ok) throw new Error(`${method} ${path} on ${node}: ${res.status} ${text}`);
    // eslint-disable-next-line @typescript-eslint/no-explicit-any -- reads a few fields of our own API
    return text ? (JSON.parse(text) as Record<string, any>) : {};
  };
  try {
    for (const { port } of Object.values(nodes)) {
      await waitFor('the Exalate nodes', async () => ((await fetch(`http://127.0.0.1:${port}/healthz`).catch(() => null))?.ok ? true : undefined), 60_000);
    }
    const init = await api('a', 'POST', '/connections', {
      destinationUrl: mode === 'public' ? base('b') : null,
      mode: 'SCRIPT',
      localShortName: 'jira',
      remoteShortName: 'ado',
      project: 'SUP',
    });
    await api('b', 'POST', '/invitations/accept', { code: init['invitationCode'], project: 'Development' });
    const connection = String(init['connection'].id);
    await waitFor('the connection', async () => ((await api('a', 'GET', `/connections/${connection}`))['status'] === 'ACTIVE' ? true : undefined), 30_000);

    // Latency: a steady stream of new items with a comment each.
    await api('a', 'POST', `/connections/${connection}/triggers`, { query: 'project = SUP' });
    const commentedAt = new Map<string, number>();
    const words = (c: TrackerConnector, s: string) => convertText({ format: 'plain', value: s }, c.textFormat);
    for (let i = 0; i < LATENCY_ITEMS; i += 1) {
      const started = Date.now();
      const summary = `latency ${i}`;
      const made = await alice.createItem({ project: 'SUP', type: 'Bug', summary, description: words(alice, `Item ${i} of the latency run`) });
      await alice.addComment(made.key, words(alice, `Comment on item ${i}`));
      commentedAt.set(summary, Date.now());
      await sleep(Math.max(0, 1000 / LATENCY_RATE_PER_S - (Date.now() - started)));
    }
    await waitFor('the latency items', () => ([...commentedAt.keys()].every((s) => visibleAt.has(s)) ? true : undefined), 120_000);
    const latencies = [...commentedAt].map(([s, at]) => visibleAt.get(s)! - at);

    // Throughput: N existing items, taken by one bulk sync.
    const keys: string[] = [];
    await pool(
      Array.from({ length: N }, (_, i) => i),
      8,
      async (i) => {
        const made = await alice.createItem({ project: 'ENG', type: 'Bug', summary: `bulk ${i}`, description: words(alice, `Item ${i} of the bulk run`) });
        await alice.addComment(made.key, words(alice, `Comment on bulk item ${i}`));
        keys[i] = made.key;
      },
    );
    const trigger = await api('a', 'POST', `/connections/${connection}/triggers`, { query: 'project = ENG', active: false });
    const cpuOf = () =>
      Object.values(nodes).reduce((sum, { child }) => {
        // utime + stime of a node process, in clock ticks (100 per second on Linux).
        const fields = readFileSync(`/proc/${child.pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
        return sum + (Number(fields[11]) + Number(fields[12])) * 10;
      }, 0);
    // Creating the N items sent 2N webhooks to the Jira node (none of them for a synced item yet).
    // The measurement starts once it has dealt with them, as a bulk sync of items made earlier
    // would: the nodes' CPU under 5% of a core for half a second (or 60 s at most).
    await jira.settled();
    const quietBy = Date.now() + 60_000;
    for (let before = cpuOf(); Date.now() < quietBy;) {
      await sleep(500);
      const now = cpuOf();
      if (now - before < 25) break;
      before = now;
    }
    const cpuBefore = cpuOf();
    const callsBeforeJira = jira.faults.calls.length;
    const callsBefore = callsBeforeJira + ado.faults.calls.length;
    const trackerCpuBefore = process.cpuUsage();
    const started = Date.now();
    await api('a', 'POST', `/connections/${connection}/triggers/${trigger['id']}/bulk-sync`);
    await waitFor('the bulk sync', () => (bulkVisible === N ? true : undefined), 30 * 60_000);
    const syncMs = Math.max(...keys.map((_, i) => visibleAt.get(`bulk ${i}`)!)) - started;
    const trackerCpu = process.cpuUsage(trackerCpuBefore);
    // Let the last acknowledgements and echo checks finish, then count what the sync cost.
    await sleep(2_000);
    const calls = jira.faults.calls.length + ado.faults.calls.length - callsBefore;
    const cpuMs = cpuOf() - cpuBefore;
    if (process.env['BENCH_VERBOSE']) {
      // Which calls the sync made, by endpoint (ids folded), for whoever tunes it.
      const histogram = new Map<string, number>();
      const jiraCalls = jira.faults.calls.slice(callsBeforeJira).map((c) => `jira ${c}`);
      const adoCalls = ado.faults.calls.slice(callsBefore - callsBeforeJira).map((c) => `ado  ${c}`);
      for (const c of [...jiraCalls, ...adoCalls]) {
        const shape = c
          .replace(/[0-9a-f]{8}-[0-9a-f-]{27}/g, '{guid}')
          .replace(/\/[A-Z]+-[0-9]+/g, '/{key}')
          .replace(/\/[0-9]+/g, '/{id}');
        histogram.set(shape, (histogram.get(shape) ?? 0) + 1);
      }
      for (const [shape, n] of [...histogram].sort((x, y) => y[1] - x[1])) process.stderr.write(`${(n / N).toFixed(2).padStart(7)} per item  ${shape}\n`);
    }
    const peakRssMb = Math.max(
      ...Object.values(nodes).map(({ child }) => Number(/VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'))?.[1] ?? 0) / 1024),
    );

    // Baseline: the fewest calls that copy the same items, with the same parallelism, while the
    // nodes are stopped (they would otherwise look at the copies' webhooks). The service hooks the
    // Azure DevOps node made go too: without them, a direct copy does not pay for events sent to a
    // node that is not there. The bench's own hook stays, as it was during the sync.
    await stopNodes();
    await removeNodeHooks(adoUrl, `http://127.0.0.1:${(hook.address() as AddressInfo).port}/`);
    const adoSync = new AdoConnector({ organizationUrl: adoUrl, personalAccessToken: ADO_SYNC_PAT });
    const baselineCpuBefore = process.cpuUsage();
    const baselineStart = Date.now();
    await pool(keys, BASELINE_CONCURRENCY, async (key) => {
      const item = (await syncJira.getItem(key))!;
      const made = await adoSync.createItem({
        project: 'Development',
        type: 'Bug',
        summary: `baseline ${item.summary}`,
        description: item.description ? convertText(item.description, 'html') : null,
      });
      await adoSync.addComment(made.key, convertText(item.comments[0]!.body, 'html'));
    });
    const baselineMs = Date.now() - baselineStart;
    const baselineCpu = process.cpuUsage(baselineCpuBefore);
    const perItem = (cpu: NodeJS.CpuUsage) => (cpu.user + cpu.system) / 1000 / N;

    return {
      cpuMsPerItem: cpuMs / N,
      trackerCpuMsPerItem: perItem(trackerCpu),
      baselineCpuMsPerItem: perItem(baselineCpu),
      itemsPerSecond: (N * 1000) / syncMs,
      p50: percentile(latencies, 50),
      p95: percentile(latencies, 95),
      callsPerItem: calls / N,
      peakRssMb,
      syncMs,
      baselineMs,
    };
  } finally {
    await stopNodes();
    hook.close();
    await Promise.all([jiraRun.close(), adoRun.close()]);
    rmSync(work, { recursive: true, force: true });
  }
}

const results: Record<string, Figures> = {};
for (const mode of ['public', 'private'] as const) {
  if (process.env['BENCH_ONLY'] && process.env['BENCH_ONLY'] !== mode) continue;
  process.stderr.write(`running the ${mode} connection (N = ${N})…\n`);
  results[mode] = await run(mode);
}
/** CPU time per item: a few milliseconds, so with a decimal. */
const cpu = (n: number): string => `${n.toFixed(1)} ms`;
const rows: Array<[string, (f: Figures) => string]> = [
  ['items per second (bulk)', (f) => f.itemsPerSecond.toFixed(1)],
  ['change → visible, p50', (f) => ms(f.p50)],
  ['change → visible, p95', (f) => ms(f.p95)],
  ['API calls per synced item', (f) => f.callsPerItem.toFixed(1)],
  ['peak RSS of the node process', (f) => `${f.peakRssMb.toFixed(0)} MB`],
  ["both nodes' CPU per synced item", (f) => cpu(f.cpuMsPerItem)],
  ["simulators' CPU per item", (f) => cpu(f.trackerCpuMsPerItem)],
  ['sync time for N items', (f) => ms(f.syncMs)],
  ['baseline (direct API copy)', (f) => ms(f.baselineMs)],
  ['baseline CPU per item', (f) => cpu(f.baselineCpuMsPerItem)],
  ['sync time / baseline', (f) => `${(f.syncMs / f.baselineMs).toFixed(2)}×`],
];
console.log(
  `\nExalate sync benchmark: Jira Cloud → Azure DevOps (simulated), N = ${N} items with a comment each, ${LATENCY_ITEMS} latency items at ${LATENCY_RATE_PER_S}/s, ${cpus().length} cores`,
);
console.log(`${''.padEnd(30)}${'public–public'.padStart(16)}${'public–private'.padStart(16)}`);
const cell = (f: Figures | undefined, value: (f: Figures) => string) => (f ? value(f) : '').padStart(16);
for (const [label, value] of rows) console.log(`${label.padEnd(30)}${cell(results['public'], value)}${cell(results['private'], value)}`);
if (process.env['BENCH_JSON']) writeFileSync(process.env['BENCH_JSON'], JSON.stringify({ n: N, results }, null, 2));
