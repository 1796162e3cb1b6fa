/**
 * What changed in the partner's replica since the one received before (`previous`), as Exalate's
 * incoming scripts read it: `replica.addedComments`, `changedComments`, `removedComments`,
 * `addedAttachments` and `removedAttachments`. On a first sync everything is added. Computed when a
 * rule first reads one (a getter of the host's), so a rule that never does pays nothing.
 *
 * Each entry is shaped as a comment or attachment to merge (`remoteId` the partner's id), so
 * `issue.comments = issue.comments.concat(replica.addedComments)` (Groovy's `+=`) adds each new
 * comment once: the engine knows the comments it wrote by the partner's id and adds none twice.
 * A removed one is only named: the sync deletes nothing in the tracker.
 */
import type { QuickJSContext, QuickJSHandle } from 'quickjs-emscripten';
import { attachmentToMerge as asAttachment, commentToMerge as asComment, isObjectHandle, propertyData, type Entry } from './handles.js';

/** The lists, by name: what each is made of, from the replica's and the previous replica's entries. */
const CHANGES: Record<string, (now: Entry[], before: Entry[]) => Entry[]> = {
  addedComments: (now, before) => now.filter((c) => !has(before, c)).map(asComment),
  changedComments: (now, before) => now.filter((c) => changed(before, c)).map(asComment),
  removedComments: (now, before) => before.filter((c) => !has(now, c)).map(asComment),
  addedAttachments: (now, before) => now.filter((a) => !has(before, a)).map(asAttachment),
  removedAttachments: (now, before) => before.filter((a) => !has(now, a)).map(asAttachment),
};

const has = (list: Entry[], e: Entry) => list.some((x) => String(x['id']) === String(e['id']));
const changed = (before: Entry[], c: Entry) => {
  const was = before.find((x) => String(x['id']) === String(c['id']));
  return was !== undefined && JSON.stringify(was['body']) !== JSON.stringify(c['body']);
};

/** Adds the lists to the input's `replica` as getters (`data` makes a result in the run's context). */
export function addReplicaChanges(vm: QuickJSContext, input: QuickJSHandle, data: (value: unknown) => QuickJSHandle): void {
  const listIn = (thing: QuickJSHandle, prop: string): Entry[] => {
    const value = propertyData(vm, thing, prop);
    return Array.isArray(value) ? value.filter((e): e is Entry => !!e && typeof e === 'object') : [];
  };
  vm.getProp(input, 'replica').consume((replica) => {
    if (!isObjectHandle(vm, replica)) return;
    for (const [name, make] of Object.entries(CHANGES)) {
      const list = name.endsWith('Comments') ? 'comments' : 'attachments';
      vm.defineProp(replica, name, {
        configurable: true,
        enumerable: false,
        get: () =>
          vm
            .getProp(input, 'previous')
            .consume((previous) => vm.getProp(input, 'replica').consume((now) => data(make(listIn(now, list), listIn(previous, list))))),
      });
    }
  });
}
