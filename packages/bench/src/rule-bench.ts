/**
 * npm run bench:rules [-- runs]: what running a sync rule costs, in figures (never a pass/fail).
 *
 * The default Jira outgoing rule on an issue with a description, three comments and two custom
 * fields, and the default Azure DevOps incoming rule on the replica it makes, as the sync engine
 * runs them (with the field catalogues a node lists for each):
 * - one at a time (the time an item waits for its rule), per run: wall time p50/p95 and CPU
 *   (this process's, all threads);
 * - four at a time, as a node's workers ask for them: runs per second;
 * - memory: what the process's RSS grew by from just before the runner was made to after all the
 *   runs (its threads, their WebAssembly modules, the runs' garbage).
 * With the V8 settings a node runs with (WebAssembly on the baseline compiler: see tuneV8ForServer).
 */
import { createRequire } from 'node:module';
import { cpus } from 'node:os';
import { tuneV8ForServer } from '@exalate/backend';
import type { NodeType, Replica } from '@exalate/contract';
import { ScriptRunner, defaultRules, formatScriptError, type ScriptHost, type ScriptItem } from '@exalate/scripting';
import { ms, percentile, pool } from './stats.js';

const RUNS = Number(process.argv[2] ?? process.env['BENCH_RULE_RUNS'] ?? 2000);
if (!Number.isInteger(RUNS) || RUNS < 1) {
  console.error('Usage: npm run bench:rules -- [number of runs per rule, default 2000]');
  process.exit(2);
}

const host = (platform: NodeType, itemTypes: string[], fields: ScriptHost['fields']): ScriptHost => ({ platform, itemTypes, fields });

/** The fields a node lists for the project, as the simulators' trackers give them (Jira's custom fields; Azure DevOps' fields the model has no place for). */
const JIRA_FIELDS = [
  { id: 'customfield_10010', name: 'Customer', type: 'string' },
  { id: 'customfield_10011', name: 'Story Points', type: 'number' },
  { id: 'customfield_10012', name: 'Target Date', type: 'date' },
];
const ADO_FIELDS = [
  ['System.AreaPath', 'Area Path', 'treePath'],
  ['System.IterationPath', 'Iteration Path', 'treePath'],
  ['System.Reason', 'Reason', 'string'],
  ['System.ChangedBy', 'Changed By', 'identity'],
  ['System.CommentCount', 'Comment Count', 'integer'],
  ['Microsoft.VSTS.Common.Severity', 'Severity', 'string'],
  ['Microsoft.VSTS.Common.StateChangeDate', 'State Change Date', 'dateTime'],
  ['Microsoft.VSTS.TCM.ReproSteps', 'Repro Steps', 'html'],
  ['Microsoft.VSTS.Common.AcceptanceCriteria', 'Acceptance Criteria', 'html'],
  ['Microsoft.VSTS.Scheduling.RemainingWork', 'Remaining Work', 'double'],
  ['Microsoft.VSTS.Scheduling.StoryPoints', 'Story Points', 'double'],
  ['Custom.Customer', 'Customer', 'string'],
  ['Custom.Effort', 'Effort', 'double'],
].map(([id, name, type]) => ({ id: id!, name: name!, type: type! }));

const issue = (i: number): ScriptItem => ({
  key: `SUP-${i}`,
  id: String(10000 + i),
  url: `http://jira.example/browse/SUP-${i}`,
  project: 'SUP',
  type: 'Bug',
  summary: `Checkout is slow (${i})`,
  description: { format: 'jira-wiki', value: `Since the release, *checkout* takes 8 s.\n\n* cart page\n* payment page\n\nItem ${i}.` },
  status: 'To Do',
  priority: 'High',
  labels: ['web', 'checkout'],
  assignee: { displayName: 'Bob', email: 'bob@acme.example' },
  reporter: { displayName: 'Alice', email: 'alice@acme.example' },
  comments: [1, 2, 3].map((c) => ({
    id: String(c),
    author: { displayName: 'Alice', email: 'alice@acme.example' },
    body: { format: 'jira-wiki', value: `Comment ${c} on item ${i}` },
    created: '2026-11-01T10:00:00Z',
    updated: '2026-11-01T10:00:00Z',
  })),
  attachments: [{ id: 'a1', filename: 'trace.har', mimeType: 'application/json', size: 2048, sha256: null }],
  customFields: { customfield_10010: 'Acme', customfield_10011: 5 },
});

tuneV8ForServer();
const rssBefore = process.memoryUsage().rss;
// As a node makes it (node.ts): two threads, the connectors' text converter.
const runner = await ScriptRunner.create({ converter: createRequire(import.meta.url).resolve('@exalate/connectors/formats') });
const jira = host('JIRA_CLOUD', ['Bug', 'Task', 'Story', 'Epic'], JIRA_FIELDS);
const ado = host('AZURE_DEVOPS', ['Bug', 'Task', 'User Story', 'Feature', 'Epic'], ADO_FIELDS);
const outgoingRule = defaultRules('JIRA_CLOUD').outgoing;
const incomingRule = defaultRules('AZURE_DEVOPS').incoming;

async function outgoing(i: number): Promise<Replica> {
  const out = await runner.runOutgoing(outgoingRule, { issue: issue(i), previous: null, firstSync: true }, jira);
  if (!out.ok) throw new Error(formatScriptError(out.error));
  return out.value;
}
async function incoming(i: number, replica: Replica): Promise<void> {
  const out = await runner.runIncoming(incomingRule, { issue: { project: 'Development' }, replica, previous: null, firstSync: true }, ado);
  if (!out.ok) throw new Error(formatScriptError(out.error));
}

interface Row {
  label: string;
  p50: number;
  p95: number;
  cpuMs: number;
}
const rows: Row[] = [];
const replica = await outgoing(0);
await incoming(0, replica);

for (const [label, run] of [
  ['outgoing (Jira default)', (i: number) => outgoing(i)],
  ['incoming (Azure DevOps default)', (i: number) => incoming(i, replica)],
] as const) {
  const times: number[] = [];
  const cpu = process.cpuUsage();
  for (let i = 1; i <= RUNS; i += 1) {
    const started = performance.now();
    await run(i);
    times.push(performance.now() - started);
  }
  const used = process.cpuUsage(cpu);
  rows.push({ label, p50: percentile(times, 50), p95: percentile(times, 95), cpuMs: (used.user + used.system) / 1000 / RUNS });
}

const concurrentStart = performance.now();
await pool(
  Array.from({ length: RUNS }, (_, i) => i),
  4,
  async (i) => {
    await incoming(i, await outgoing(i));
  },
);
const pairsPerSecond = (RUNS * 1000) / (performance.now() - concurrentStart);
const rssAfter = process.memoryUsage().rss;
await runner.close();

const fine = (n: number) => (n < 10 ? `${n.toFixed(2)} ms` : ms(n));
console.log(`\nExalate rule benchmark: ${RUNS} runs per rule, ${cpus().length} cores`);
console.log(`${''.padEnd(34)}${'p50'.padStart(10)}${'p95'.padStart(10)}${'CPU/run'.padStart(10)}`);
for (const r of rows) console.log(`${r.label.padEnd(34)}${fine(r.p50).padStart(10)}${fine(r.p95).padStart(10)}${fine(r.cpuMs).padStart(10)}`);
console.log(`${'outgoing + incoming, 4 at a time'.padEnd(34)}${`${pairsPerSecond.toFixed(0)} pairs/s`.padStart(30)}`);
console.log(`${'RSS growth (runner and runs)'.padEnd(34)}${`${((rssAfter - rssBefore) / 2 ** 20).toFixed(0)} MB`.padStart(30)}`);
