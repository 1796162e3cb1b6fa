/**
 * What a rule's calls to its node are answered with (scripting's host-calls.ts): the local twin
 * of a partner's item on the rule's own connection, that local item, another project's item
 * types (`nodeHelper.getIssueType(name, projectKey)`), and the node's own
 * tracker's REST API (`httpClient`, through the connector, which never sends elsewhere). A rule
 * runs for one connection and sees that connection's twins only.
 */
import type { TrackerConnector, TrackerItem } from '@exalate/connectors';
import type { HostCalls } from '@exalate/scripting';
import type { SyncRepository, TwinRow } from './repository.js';

/** The answers for rules run for `connectionId`. */
export function ruleCalls(
  repo: SyncRepository,
  connector: TrackerConnector,
  connectionId: string,
  itemTypesOf: (project: string) => Promise<string[]>,
): HostCalls {
  const twinOf = async (remote: string): Promise<(TwinRow & { local_key: string }) | null> => {
    const twin = await repo.twinByRemoteKeyOrId(connectionId, remote);
    return twin?.local_key ? (twin as TwinRow & { local_key: string }) : null;
  };
  return async (call, deadline) => {
    switch (call.kind) {
      case 'twin': {
        // Exalate's IssueKey: the item's id, and its key (also as `urn`).
        const twin = await twinOf(call.remoteId);
        if (!twin) return null;
        return { id: twin.local_snapshot?.id ?? twin.local_key, key: twin.local_key, urn: twin.local_key };
      }
      case 'item': {
        const twin = await twinOf(call.remoteId);
        const item = twin ? await connector.getItem(twin.local_key) : null;
        return item ? itemView(item) : null;
      }
      case 'http':
        return connector.rest({ method: call.method, path: call.path, body: call.body, timeoutMs: deadline - Date.now() });
      case 'itemTypes':
        return itemTypesOf(call.project);
      case 'user': {
        const person = await connector.findUser(call.ref);
        return person ? { key: person.id ?? person.email, displayName: person.displayName, email: person.email } : null;
      }
    }
  };
}

/** A local item as a rule reads it from a lookup: what names and places it, not its comments or attachments. */
function itemView(item: TrackerItem): Record<string, unknown> {
  return {
    key: item.key,
    id: item.id,
    url: item.url,
    project: item.project,
    type: item.type,
    summary: item.summary,
    status: item.status,
    priority: item.priority,
    labels: item.labels,
    assignee: item.assignee ? { displayName: item.assignee.displayName, email: item.assignee.email } : null,
    created: item.created,
    updated: item.updated,
  };
}
