#!/usr/bin/env node
// Starts one tracker simulator on its own: `node scripts/simulator.js ado --port 8081`.
// The logic lives in packages/simulators; this only wires the process.
import { parseSimulatorArgs, startSimulator } from '../packages/simulators/dist/index.js';

let options;
try {
  options = parseSimulatorArgs(process.argv.slice(2));
} catch (error) {
  console.error(error.message);
  process.exit(2);
}
const { running, describe, save } = await startSimulator(options);
for (const line of describe) console.log(line);
if (options.stateFile) console.log(`  state: ${options.stateFile} (saved on Ctrl+C)`);
const stop = async () => {
  save();
  await running.close();
  process.exit(0);
};
process.once('SIGINT', stop);
process.once('SIGTERM', stop);
