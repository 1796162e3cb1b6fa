/**
 * What the run's modules share over QuickJS handles and merge entries: whether a handle is an
 * object, how host data becomes a value in the run (through the context's own JSON.parse), and the
 * shape of a partner's comment or attachment that the engine merges (`remoteId` the partner's id).
 */
import type { QuickJSContext, QuickJSHandle } from 'quickjs-emscripten';

export type Entry = Record<string, unknown>;

/** A helper refused what a rule gave it: the rule's error, nothing worse. */
export class HelperArgumentError extends Error {}

/** An object (not null) in the run's context. */
export const isObjectHandle = (vm: QuickJSContext, h: QuickJSHandle): boolean => vm.typeof(h) === 'object' && !vm.sameValue(h, vm.null);

/**
 * `fn(h)`, then `h` disposed, also when `fn` throws. A handle's own `consume` leaves it alive
 * when its callback throws, and QuickJS finds such a value at the runtime's end (the module is
 * then taken for unsound, and its thread replaced): use this wherever the callback may throw.
 */
export function disposing<T>(h: QuickJSHandle, fn: (h: QuickJSHandle) => T): T {
  try {
    return fn(h);
  } finally {
    if (h.alive) h.dispose();
  }
}

/** `thing[name]` of an object of the run as host data (undefined when `thing` is no object): one property, not the whole object. */
export function propertyData(vm: QuickJSContext, thing: QuickJSHandle | undefined, name: string): unknown {
  if (thing === undefined || !isObjectHandle(vm, thing)) return undefined;
  return disposing(vm.getProp(thing, name), (h) => vm.dump(h));
}

/** Host data as a new value in the run, made by `parse` (the context's JSON.parse, taken before the rule ran). */
export const dataIn =
  (vm: QuickJSContext, parse: QuickJSHandle) =>
  (value: unknown): QuickJSHandle =>
    value === undefined ? vm.undefined : vm.newString(JSON.stringify(value)).consume((json) => vm.unwrapResult(vm.callFunction(parse, vm.undefined, json)));

/** A partner's comment as one to merge here. */
export const commentToMerge = (theirs: Entry): Entry => ({
  remoteId: String(theirs['id']),
  author: theirs['author'] ?? null,
  body: theirs['body'],
  created: theirs['created'],
});

/** A partner's attachment as one to merge here. */
export const attachmentToMerge = (theirs: Entry): Entry => ({
  remoteId: String(theirs['id']),
  filename: theirs['filename'],
  mimeType: theirs['mimeType'],
  size: theirs['size'],
  sha256: theirs['sha256'],
});
