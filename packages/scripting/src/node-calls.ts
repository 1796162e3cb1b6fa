/**
 * The rule's helpers that ask its node and wait for the answer (host-calls.ts), as Exalate's
 * scripts use them:
 * - `syncHelper.getLocalIssueKeyFromRemoteId(id)`: the local twin of the partner's item (by its
 *   key or id) on this connection, as `{ id, key, urn }`, or null;
 * - `nodeHelper.getLocalIssueFromRemoteId(id)`: that local item itself (`key`, `id`, `summary`,
 *   `status`, …), or null;
 * - `nodeHelper.getUser(id or email)`: a person of the node's tracker, `{ key, displayName, email }`;
 * - `httpClient.get/delete(path)`, `post/put/patch(path, body)`: the node's own tracker's REST
 *   API, with the node's credentials, at a path relative to the tracker's address; the answer's
 *   body (parsed JSON, or text). Never another host: the node builds the address (see the
 *   connectors' rest-passthrough.ts).
 * Each call counts against the rule's time limit; a failure is the rule's error, which it may catch.
 */
import type { QuickJSContext, QuickJSHandle } from 'quickjs-emscripten';
import { HelperArgumentError } from './handles.js';
import type { HostCall, HostCallAnswer, HttpMethod } from './host-calls.js';

type Result = QuickJSHandle | { error: QuickJSHandle } | undefined;

interface Tools {
  fn: (name: string, impl: (...args: QuickJSHandle[]) => Result) => QuickJSHandle;
  data: (value: unknown) => QuickJSHandle;
  read: (h: QuickJSHandle | undefined) => unknown;
  text: (h: QuickJSHandle) => string;
}

export function nodeCallHelpers(
  vm: QuickJSContext,
  run: { call: ((call: HostCall, deadline: number) => HostCallAnswer) | null; deadline: number },
  { fn, data, read, text }: Tools,
): {
  syncHelper: Record<string, QuickJSHandle>;
  nodeHelper: Record<string, QuickJSHandle>;
  httpClient: Record<string, QuickJSHandle>;
  ask: (helper: string, call: HostCall) => Result;
} {
  const ask = (helper: string, call: HostCall): Result => {
    if (!run.call) return { error: vm.newError(`${helper} cannot reach the node here`) };
    const answer = run.call(call, run.deadline);
    if (answer.ok) return data(answer.value ?? null);
    // Out of time: the run ends as any run past its limit does (QuickJS's own interruption).
    if (answer.timedOut) return { error: vm.newError({ name: 'InternalError', message: 'interrupted' }) };
    return { error: vm.newError(`${helper}: ${answer.message}`) };
  };
  /** A remote id as the partner's replica gives it: a key ("SUP-12"), or an id (a number or a string). */
  const remoteId = (helper: string, id?: QuickJSHandle): string | null => {
    const value = read(id);
    if (value === null || value === undefined || value === '') return null;
    if (typeof value !== 'string' && typeof value !== 'number') throw new HelperArgumentError(`${helper} takes the partner's item key or id`);
    return String(value);
  };
  const twinLookup = (name: string, kind: 'twin' | 'item') =>
    fn(name, (id) => {
      const remote = remoteId(name, id);
      return remote === null ? vm.null : ask(name, { kind, remoteId: remote });
    });
  const http = (method: HttpMethod, withBody: boolean) =>
    fn(method.toLowerCase(), (path, body) => {
      const helper = `httpClient.${method.toLowerCase()}`;
      if (path === undefined || vm.typeof(path) !== 'string')
        throw new HelperArgumentError(`${helper} takes a path on this node's tracker, like "/rest/api/2/myself"`);
      const value = withBody && body !== undefined ? read(body) : undefined;
      return ask(`${helper} ${text(path)}`, { kind: 'http', method, path: text(path), ...(value === undefined ? {} : { body: value }) });
    });
  return {
    ask,
    syncHelper: { getLocalIssueKeyFromRemoteId: twinLookup('getLocalIssueKeyFromRemoteId', 'twin') },
    nodeHelper: {
      getLocalIssueFromRemoteId: twinLookup('getLocalIssueFromRemoteId', 'item'),
      /** A person of this tracker by id or email: `{ key, displayName, email }`, or null. */
      getUser: fn('getUser', (ref) => {
        const value = read(ref);
        if (value === null || value === undefined || value === '') return vm.null;
        if (typeof value !== 'string') throw new HelperArgumentError("getUser takes a person's id or email");
        return ask('getUser', { kind: 'user', ref: value });
      }),
    },
    httpClient: {
      get: http('GET', false),
      delete: http('DELETE', false),
      post: http('POST', true),
      put: http('PUT', true),
      patch: http('PATCH', true),
    },
  };
}
