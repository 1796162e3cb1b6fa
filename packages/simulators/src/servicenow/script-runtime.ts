/**
 * The main thread's side of running an application's server script (script-worker.ts): starts
 * one worker per call, answers its blocking requests (the instance's tables, outbound HTTP, its
 * log) and ends it when it runs past the transaction's time. The answers come from the
 * instance's handlers; this module only carries them.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { MessageChannel, Worker } from 'node:worker_threads';
import { WAKE, type BridgeAnswer, type BridgeRequest, type ScriptJob, type ScriptOutcome } from './script-bridge.js';

export type ScriptHandlers = (request: BridgeRequest) => Promise<BridgeAnswer>;

/** Under jest the sources run from src/, where no compiled worker is: take the build's (tsc -b runs first). */
function workerFile(): string {
  const here = fileURLToPath(new URL('./script-worker.js', import.meta.url));
  if (existsSync(here)) return here;
  const built = here.replace(/([\\/])src([\\/]servicenow[\\/])/, '$1dist$2');
  if (existsSync(built)) return built;
  throw new Error(`the script worker is not built (${built}): run "npx tsc -b packages/simulators" first`);
}

export class ScriptFailure extends Error {}

export async function runServerScript(job: ScriptJob, handlers: ScriptHandlers, o: { timeoutMs?: number } = {}): Promise<ScriptOutcome> {
  const channel = new MessageChannel();
  const flag = new SharedArrayBuffer(4);
  const signal = new Int32Array(flag);
  const worker = new Worker(workerFile(), {
    workerData: { job, port: channel.port2, flag },
    transferList: [channel.port2],
    resourceLimits: { maxOldGenerationSizeMb: 128 },
  });
  try {
    return await new Promise<ScriptOutcome>((resolve, reject) => {
      const timer = setTimeout(() => reject(new ScriptFailure('Transaction cancelled: maximum execution time exceeded')), o.timeoutMs ?? 60_000);
      worker.on('message', (message: { request?: BridgeRequest; outcome?: ScriptOutcome; failure?: string }) => {
        if (message.request) {
          void handlers(message.request)
            .catch((error: unknown): BridgeAnswer => ({ ok: false, error: (error as Error).message }))
            .then((answer) => {
              channel.port1.postMessage(answer);
              Atomics.store(signal, 0, WAKE);
              Atomics.notify(signal, 0);
            });
        } else if (message.outcome) {
          clearTimeout(timer);
          resolve(message.outcome);
        } else {
          clearTimeout(timer);
          reject(new ScriptFailure(message.failure ?? 'the script failed'));
        }
      });
      worker.on('error', (error) => {
        clearTimeout(timer);
        reject(new ScriptFailure(error.message));
      });
      worker.on('exit', (code) => {
        clearTimeout(timer);
        reject(new ScriptFailure(`the script ended without an answer (exit ${code})`));
      });
    });
  } finally {
    channel.port1.close();
    await worker.terminate();
  }
}
