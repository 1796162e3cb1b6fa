/**
 * The server's rule runner (one per process, shared by its nodes): worker threads that run the
 * sync rules and convert large texts, with the connectors' text converter loaded in them.
 */
import { createRequire } from 'node:module';
import { ScriptRunner } from '@exalate/scripting';
import type { Logger } from '../logger.js';

export async function createRuleRunner(logger: Logger): Promise<ScriptRunner> {
  return ScriptRunner.create({
    converter: createRequire(import.meta.url).resolve('@exalate/connectors/formats'),
    onThreadReplaced: (reason) => logger.warn({ code: 'RULE_THREAD_REPLACED', reason }, 'a rule thread was ended and replaced'),
  });
}
