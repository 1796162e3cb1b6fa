import { randomUUID } from 'node:crypto';
import { ConnectorError, type TrackerConnector } from '@exalate/connectors';
import {
  SaveSyncRulesRequestSchema,
  SaveTriggerRequestSchema,
  SyncNowRequestSchema,
  TriggerPreviewRequestSchema,
  type BulkSyncView,
  type SyncItemDetail,
  type SyncItemView,
  type SyncQueueView,
  type SyncRulesView,
  type TriggerPreview,
  type TriggerView,
} from '@exalate/contract';
import { defaultRules, formatScriptError, type ScriptRunner } from '@exalate/scripting';
import type { ConnectionRow } from '../connections/repository.js';
import type { ConnectionService } from '../connections/service.js';
import { parse } from '../http/parse-request.js';
import { AppError } from '../errors.js';
import type { DocumentedRouter } from '../http/documented-router.js';
import type { SyncEngine } from './engine.js';
import type { TriggerRow, TwinRow } from './repository.js';

/** Item types are read from this many projects at most (types are mostly shared between projects). */
const MAX_PROJECTS_FOR_TYPES = 50;

const iso = (d: Date | null): string | null => (d ? new Date(d).toISOString() : null);

/** What an item's key looks like here, for an admin who typed another. */
function exampleKey(tracker: TrackerConnector['trackerType']): string {
  switch (tracker) {
    case 'AZURE_DEVOPS':
      return 'a work item id, such as 42';
    case 'SERVICENOW':
      return 'a record number, such as INC0010001';
    default:
      return 'an issue key, such as SUP-12';
  }
}

export function triggerView(t: TriggerRow): TriggerView {
  return {
    id: t.id,
    itemType: t.item_type,
    query: t.query,
    active: t.active,
    watermark: t.watermark,
    createdAt: iso(t.created_at)!,
    updatedAt: iso(t.updated_at)!,
  };
}

export function itemView(t: TwinRow): SyncItemView {
  return {
    localKey: t.local_key,
    localUrl: t.local_url,
    remoteKey: t.remote_key,
    remoteUrl: t.remote_url,
    status: t.status,
    error: t.error,
    attempts: t.attempts,
    lastSyncAt: iso(t.last_sync_at),
    updatedAt: iso(t.updated_at)!,
  };
}

/** Configure sync: rules, triggers, sync now and bulk sync, the queue, per-item status, retry and unsync. Mounted with the admin API. */
export function syncRoutes(
  route: Omit<DocumentedRouter, 'router'>,
  o: { service: ConnectionService; engine: SyncEngine; runner: ScriptRunner; connector: TrackerConnector },
): void {
  const { engine } = o;
  const repo = engine.queries;
  /** A connection that exists here and got as far as a connection key (rules may be prepared while Pending). */
  const connection = async (id: string): Promise<ConnectionRow> => {
    const row = await o.service.repository.findLive(id);
    if (!row)
      throw new AppError('CONNECTION_NOT_FOUND', 'There is no connection with this id on this node. It may have been deleted; reload the connection list.');
    return row;
  };
  const established = async (id: string): Promise<ConnectionRow> => {
    const row = await connection(id);
    if (!row.connection_key)
      throw new AppError('CONNECTION_STATE_CONFLICT', 'This connection is not established yet: items sync once the partner has accepted the invitation.');
    return row;
  };
  const trackerCall = async <T>(what: string, fn: () => Promise<T>): Promise<T> => {
    try {
      return await fn();
    } catch (error) {
      if (error instanceof ConnectorError && error.code === 'REJECTED')
        throw new AppError('TRIGGER_QUERY_INVALID', `The tracker refused the query: ${error.message}. Check it in the tracker's own search first.`);
      if (error instanceof ConnectorError)
        throw new AppError('TRACKER_UNAVAILABLE', `${what}: the tracker did not answer as expected (${error.code}: ${error.message}). Try again shortly.`);
      throw error;
    }
  };
  const twinOf = async (row: ConnectionRow, key: string): Promise<TwinRow> => {
    const twin = await repo.twinByAnyKey(row.id, key);
    if (!twin) throw new AppError('ITEM_NOT_FOUND', `${key} is not synced in this connection. Use "sync now" to start syncing it.`);
    return twin;
  };

  /** The rules in force: what is saved, the platform's default where nothing is (as the engine reads them). */
  const rulesView = (editable: boolean, outgoing: string | null, incoming: string | null): SyncRulesView => {
    const defaults = defaultRules(engine.platform);
    return {
      editable,
      outgoing: outgoing ?? defaults.outgoing,
      incoming: incoming ?? defaults.incoming,
      outgoingIsDefault: outgoing === null,
      incomingIsDefault: incoming === null,
    };
  };

  route.get('/connections/:id/rules', async (req, res) => {
    const row = await connection(String(req.params['id']));
    const saved = row.mode === 'BASIC' ? null : await repo.rules(row.id);
    res.json(rulesView(row.mode !== 'BASIC', saved?.outgoing ?? null, saved?.incoming ?? null));
  });

  route.put('/connections/:id/rules', async (req, res) => {
    const row = await connection(String(req.params['id']));
    if (row.mode === 'BASIC')
      throw new AppError(
        'SYNC_RULES_FIXED',
        'This is a Basic connection: it syncs with the default rules, which cannot be changed. Create a Script connection to write your own rules.',
      );
    const body = parse(SaveSyncRulesRequestSchema, req.body);
    const current = await repo.rules(row.id);
    const outgoing = body.outgoing === undefined ? (current?.outgoing ?? null) : body.outgoing;
    const incoming = body.incoming === undefined ? (current?.incoming ?? null) : body.incoming;
    const fields: Record<string, string> = {};
    for (const [direction, script] of [
      ['outgoing', outgoing],
      ['incoming', incoming],
    ] as const) {
      const problem = script === null ? null : await o.runner.checkSyntax(script, direction);
      if (problem) fields[direction] = formatScriptError(problem);
    }
    if (Object.keys(fields).length) throw new AppError('SYNC_RULE_INVALID', `The rules were not saved: ${Object.values(fields).join(' ')}`, fields);
    await engine.saveRules(row.id, outgoing, incoming);
    res.json(rulesView(true, outgoing, incoming));
  });

  route.get('/connections/:id/triggers', async (req, res) => {
    const row = await connection(String(req.params['id']));
    res.json({ triggers: (await repo.triggers(row.id)).map(triggerView) });
  });

  /** Runs the query against the tracker once, so a mistyped query fails here and not silently later. */
  const checkQuery = async (itemType: string | null, query: string): Promise<TriggerPreview> => {
    return trackerCall('Checking the trigger', async () => {
      const items: TriggerPreview['items'] = [];
      let more = false;
      for await (const item of o.connector.searchChanged({ query, ...(itemType ? { itemType } : {}), changedAfter: null, pageSize: 21 })) {
        if (items.length === 20) {
          more = true;
          break;
        }
        items.push({ key: item.key, url: item.url, updated: item.updated, summary: item.summary });
      }
      return { items, more };
    });
  };

  /** Every type of every project, once each: what a trigger's item type is chosen from. */
  route.get('/item-types', async (_req, res) => {
    const names = await trackerCall('Listing the item types', async () => {
      const projects = (await o.connector.listProjects()).slice(0, MAX_PROJECTS_FOR_TYPES);
      const seen = new Set<string>();
      // A few projects at a time: enough to be quick, few enough not to be rate-limited.
      for (let i = 0; i < projects.length; i += 4) {
        const types = await Promise.all(projects.slice(i, i + 4).map((p) => o.connector.listItemTypes(p.key)));
        for (const t of types.flat()) seen.add(t.name);
      }
      return [...seen].sort((a, b) => a.localeCompare(b));
    });
    res.json({ itemTypes: names });
  });

  route.post('/connections/:id/triggers/preview', async (req, res) => {
    await connection(String(req.params['id']));
    const body = parse(TriggerPreviewRequestSchema, req.body);
    res.json(await checkQuery(body.itemType, body.query));
  });

  route.post('/connections/:id/triggers', async (req, res) => {
    const row = await connection(String(req.params['id']));
    const body = parse(SaveTriggerRequestSchema, req.body);
    await checkQuery(body.itemType, body.query);
    // Changes from now on; what already matches is synced by "bulk sync".
    const created = await engine.addTrigger({
      id: randomUUID(),
      connectionId: row.id,
      itemType: body.itemType,
      query: body.query,
      active: body.active,
      watermark: new Date().toISOString(),
    });
    res.status(201).json(triggerView(created));
  });

  route.put('/connections/:id/triggers/:triggerId', async (req, res) => {
    const row = await connection(String(req.params['id']));
    const body = parse(SaveTriggerRequestSchema, req.body);
    const existing = await repo.trigger(row.id, String(req.params['triggerId']));
    if (!existing) throw new AppError('TRIGGER_NOT_FOUND', 'There is no such trigger on this connection; reload the list.');
    await checkQuery(body.itemType, body.query);
    // A changed query, or a trigger switched back on, starts from now: it does not replay the time it was different.
    const restart = existing.query !== body.query || existing.item_type !== body.itemType || (!existing.active && body.active);
    const updated = await engine.changeTrigger(row.id, existing.id, {
      itemType: body.itemType,
      query: body.query,
      active: body.active,
      ...(restart ? { watermark: new Date().toISOString() } : {}),
    });
    res.json(triggerView(updated!));
  });

  route.delete('/connections/:id/triggers/:triggerId', async (req, res) => {
    const row = await connection(String(req.params['id']));
    if (!(await engine.removeTrigger(row.id, String(req.params['triggerId']))))
      throw new AppError('TRIGGER_NOT_FOUND', 'There is no such trigger on this connection; reload the list.');
    res.status(204).end();
  });

  route.post('/connections/:id/triggers/:triggerId/bulk-sync', async (req, res) => {
    const row = await established(String(req.params['id']));
    const trigger = await repo.trigger(row.id, String(req.params['triggerId']));
    if (!trigger) throw new AppError('TRIGGER_NOT_FOUND', 'There is no such trigger on this connection; reload the list.');
    const keys = await trackerCall('Bulk sync', async () => {
      const found: string[] = [];
      for await (const item of o.connector.searchChanged({
        query: trigger.query,
        ...(trigger.item_type ? { itemType: trigger.item_type } : {}),
        changedAfter: null,
      }))
        found.push(item.key);
      return found;
    });
    const id = randomUUID();
    await engine.startBulkSync(row, id, trigger.id, keys);
    res.status(202).json(await bulkView(row.id, id));
  });

  const bulkView = async (connectionId: string, id: string): Promise<BulkSyncView> => {
    const b = await repo.bulkSync(connectionId, id);
    if (!b) throw new AppError('NOT_FOUND', 'There is no such bulk sync on this connection.');
    return { id, total: b.total, synced: b.synced, failed: b.failed, startedAt: iso(b.started_at)!, done: b.synced + b.failed >= b.total };
  };

  route.get('/connections/:id/bulk-syncs/:bulkId', async (req, res) => {
    const row = await connection(String(req.params['id']));
    res.json(await bulkView(row.id, String(req.params['bulkId'])));
  });

  route.post('/connections/:id/sync-now', async (req, res) => {
    const row = await established(String(req.params['id']));
    const { key } = parse(SyncNowRequestSchema, req.body);
    const notFound = () =>
      new AppError(
        'ITEM_NOT_FOUND',
        `There is no item ${key} in the tracker (or the sync user may not see it). Check the key: ${exampleKey(o.connector.trackerType)}.`,
        { key: 'No such item.' },
      );
    const item = await trackerCall('Sync now', async () => {
      try {
        return await o.connector.getItem(key);
      } catch (error) {
        // A key the tracker refuses to look up (one of another tracker's, say) names no item either.
        if (error instanceof ConnectorError && (error.code === 'NOT_FOUND' || error.code === 'REJECTED')) return null;
        throw error;
      }
    });
    if (!item) throw notFound();
    await engine.syncNow(row, [item.key]);
    res.status(202).json({ key: item.key });
  });

  route.get('/connections/:id/queue', async (req, res) => {
    const row = await connection(String(req.params['id']));
    const failed = await repo.twins(row.id, { status: ['FAILED'], limit: 100, offset: 0 });
    const pending = await repo.twins(row.id, { status: ['PENDING'], limit: 100, offset: 0 });
    const view: SyncQueueView = {
      items: await repo.twinCounts(row.id),
      outbox: await repo.countUndelivered(row.id),
      inbox: await repo.countPendingInbox(row.id),
      attention: [...failed, ...pending].map(itemView),
    };
    res.json(view);
  });

  route.get('/connections/:id/items', async (req, res) => {
    const row = await connection(String(req.params['id']));
    const limit = Math.min(200, Math.max(1, Number(req.query['limit'] ?? 50) || 50));
    const offset = Math.max(0, Number(req.query['offset'] ?? 0) || 0);
    res.json({ items: (await repo.twins(row.id, { limit, offset })).map(itemView) });
  });

  route.get('/connections/:id/items/:key', async (req, res) => {
    const row = await connection(String(req.params['id']));
    const twin = await twinOf(row, String(req.params['key']));
    const detail: SyncItemDetail = {
      ...itemView(twin),
      localReplica: await engine.localReplica(row, twin),
      remoteReplica: twin.last_received_replica,
      history: (await repo.history(twin.id)).map((h) => ({
        direction: h.direction as 'outgoing' | 'incoming',
        outcome: h.outcome,
        message: h.message,
        at: iso(h.at)!,
      })),
    };
    res.json(detail);
  });

  route.post('/connections/:id/items/:key/retry', async (req, res) => {
    const row = await established(String(req.params['id']));
    const twin = await twinOf(row, String(req.params['key']));
    if (twin.status === 'UNSYNCED') throw new AppError('CONNECTION_STATE_CONFLICT', 'This item is no longer synced; use "sync now" to sync it again.');
    await engine.retryItem(row, twin);
    res.status(202).json(itemView((await repo.twinByAnyKey(row.id, String(req.params['key'])))!));
  });

  route.post('/connections/:id/retry-failed', async (req, res) => {
    const row = await established(String(req.params['id']));
    const failed = await repo.failedTwins(row.id);
    for (const twin of failed) await engine.retryItem(row, twin);
    res.status(202).json({ retried: failed.length });
  });

  route.post('/connections/:id/items/:key/unsync', async (req, res) => {
    const row = await established(String(req.params['id']));
    const twin = await twinOf(row, String(req.params['key']));
    if (twin.status !== 'UNSYNCED') await engine.unsync(row, twin);
    res.status(204).end();
  });
}
