export * from './types.js';
export { ScriptRunner, TextConversionError, MAX_RULE_INPUT_BYTES, type ScriptRunnerOptions } from './runner.js';
export * from './object-model.js';
export * from './default-rules.js';
export type { HostCall, HostCalls, HttpMethod } from './host-calls.js';
