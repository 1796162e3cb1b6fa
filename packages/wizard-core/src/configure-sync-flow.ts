import type { BulkSyncView, ConnectionView, Project, SaveSyncRulesRequest, SyncQueueView, SyncRulesView, TriggerPreview, TriggerView } from '@exalate/contract';
import type { ClientError, SyncAdminApi } from './api-client.js';
import { Store } from './store.js';

export type RuleDirection = 'outgoing' | 'incoming';

/** The trigger being written: a new one (id null) or an existing one being edited. */
export interface TriggerDraft {
  id: string | null;
  /** Empty: every item type. */
  itemType: string;
  query: string;
  active: boolean;
}

export interface ConfigureSyncState {
  loading: boolean;
  connection: ConnectionView | null;
  /** What is saved on the node. */
  rules: SyncRulesView | null;
  /** What the editors hold. */
  draft: Record<RuleDirection, string>;
  ruleErrors: Partial<Record<RuleDirection, string>>;
  triggers: TriggerView[];
  /** Where incoming items can be created (projects, tables); null until known, or when the tracker would not say. */
  projects: Project[] | null;
  /** What a trigger's item type is chosen from (null until known, or when the tracker would not say). */
  itemTypes: string[] | null;
  trigger: TriggerDraft | null;
  triggerError: string | null;
  /** The items the trigger's query matches now, from "Preview matching items". */
  preview: TriggerPreview | null;
  bulk: BulkSyncView | null;
  queue: SyncQueueView | null;
  syncNowKey: string;
  syncNowError: string | null;
  banner: ClientError | null;
  notice: string | null;
  /** What is under way: one label per running action. */
  busy: string | null;
}

const EMPTY_TRIGGER: TriggerDraft = { id: null, itemType: '', query: '', active: true };

/**
 * Configure sync for one connection: the outgoing and incoming rules, the triggers (with a check of
 * what the query matches now and bulk sync), and the queue with its failed items and retries.
 */
export class ConfigureSyncFlow extends Store<ConfigureSyncState> {
  private closed = false;

  constructor(
    private readonly api: SyncAdminApi,
    readonly connectionId: string,
    private readonly wait: (ms: number) => Promise<void> = (ms) => new Promise((r) => setTimeout(r, ms)),
  ) {
    super({
      loading: true,
      connection: null,
      rules: null,
      draft: { outgoing: '', incoming: '' },
      ruleErrors: {},
      triggers: [],
      projects: null,
      itemTypes: null,
      trigger: null,
      triggerError: null,
      preview: null,
      bulk: null,
      queue: null,
      syncNowKey: '',
      syncNowError: null,
      banner: null,
      notice: null,
      busy: null,
    });
  }

  /** A screen shows the flow: load what it shows. */
  protected override onActive(): void {
    this.closed = false;
    void this.load();
  }

  /** The screen is gone: stop following a bulk sync. */
  protected override onInactive(): void {
    this.closed = true;
  }

  get rulesChanged(): boolean {
    const { rules, draft } = this.getState();
    return !!rules && (rules.outgoing !== draft.outgoing || rules.incoming !== draft.incoming);
  }

  async load(): Promise<void> {
    this.setState({ loading: true, banner: null });
    const id = this.connectionId;
    const [connection, rules, triggers, queue, itemTypes, projects] = await Promise.all([
      this.api.getConnection(id),
      this.api.getRules(id),
      this.api.listTriggers(id),
      this.api.getQueue(id),
      this.api.listItemTypes(),
      this.api.listProjects(),
    ]);
    const failed = [connection, rules, triggers, queue].find((r) => !r.ok);
    if (failed && !failed.ok) return this.setState({ loading: false, banner: failed.error });
    if (!connection.ok || !rules.ok || !triggers.ok || !queue.ok) return;
    this.setState({
      loading: false,
      connection: connection.value,
      rules: rules.value,
      draft: { outgoing: rules.value.outgoing, incoming: rules.value.incoming },
      triggers: triggers.value.triggers,
      queue: queue.value,
      // Without the list, the type is typed in: a tracker that cannot list its types still gets triggers.
      itemTypes: itemTypes.ok ? itemTypes.value.itemTypes : null,
      projects: projects.ok ? projects.value.projects : null,
    });
  }

  // ── where incoming items go ──

  /** Items from the partner are created in this project (or table) from now on; saved at once. */
  async setProject(project: string): Promise<boolean> {
    if (!project || project === this.getState().connection?.project) return true;
    return this.run('Saving where incoming items go', async () => {
      const saved = await this.api.setProject(this.connectionId, project);
      if (!saved.ok) return this.fail(saved.error);
      const name = this.getState().projects?.find((p) => p.key === project)?.name ?? project;
      this.setState({ connection: saved.value, notice: `New items from the other side are created in ${name} from now on` });
      return true;
    });
  }

  // ── rules ──

  setRule(direction: RuleDirection, text: string): void {
    this.setState((s) => ({ draft: { ...s.draft, [direction]: text }, ruleErrors: { ...s.ruleErrors, [direction]: undefined }, notice: null }));
  }

  /**
   * Saves the rules the admin changed (only those: an untouched default rule stays the default);
   * the node checks their syntax first and says the line of a mistake.
   */
  async saveRules(): Promise<boolean> {
    const { draft, rules } = this.getState();
    if (!rules?.editable) return false;
    const changed: SaveSyncRulesRequest = {};
    if (draft.outgoing !== rules.outgoing) changed.outgoing = draft.outgoing;
    if (draft.incoming !== rules.incoming) changed.incoming = draft.incoming;
    if (!Object.keys(changed).length) return true;
    return this.run('Saving the rules', async () => {
      const saved = await this.api.saveRules(this.connectionId, changed);
      if (!saved.ok) {
        const fields = saved.error.fields ?? {};
        this.setState({ ruleErrors: { outgoing: fields['outgoing'], incoming: fields['incoming'] }, banner: saved.error });
        return false;
      }
      this.setState({
        rules: saved.value,
        draft: { outgoing: saved.value.outgoing, incoming: saved.value.incoming },
        ruleErrors: {},
        notice: 'Sync rules saved',
      });
      return true;
    });
  }

  /** Puts the platform's default rule back (saved at once, so the node and the editor agree). */
  async restoreDefault(direction: RuleDirection): Promise<boolean> {
    return this.run('Restoring the default rule', async () => {
      const saved = await this.api.saveRules(this.connectionId, { [direction]: null });
      if (!saved.ok) return this.fail(saved.error);
      this.setState((s) => ({
        rules: saved.value,
        draft: { ...s.draft, [direction]: saved.value[direction] },
        ruleErrors: { ...s.ruleErrors, [direction]: undefined },
        notice: `The default ${direction} rule is back`,
      }));
      return true;
    });
  }

  // ── triggers ──

  editTrigger(trigger: TriggerView | null): void {
    this.setState({
      trigger: trigger ? { id: trigger.id, itemType: trigger.itemType ?? '', query: trigger.query, active: trigger.active } : { ...EMPTY_TRIGGER },
      triggerError: null,
      preview: null,
      notice: null,
    });
  }

  cancelTrigger(): void {
    this.setState({ trigger: null, triggerError: null, preview: null });
  }

  setTrigger<F extends keyof Omit<TriggerDraft, 'id'>>(field: F, value: TriggerDraft[F]): void {
    this.setState((s) => (s.trigger ? { trigger: { ...s.trigger, [field]: value }, triggerError: null, preview: field === 'active' ? s.preview : null } : {}));
  }

  /** Runs the query against the tracker now and shows the first matching items. */
  async previewTrigger(): Promise<boolean> {
    const t = this.getState().trigger;
    if (!t) return false;
    return this.run('Looking for matching items', async () => {
      const preview = await this.api.previewTrigger(this.connectionId, { itemType: t.itemType.trim() || null, query: t.query });
      if (!preview.ok) {
        this.setState({ triggerError: preview.error.message, preview: null });
        return false;
      }
      this.setState({ preview: preview.value });
      return true;
    });
  }

  async saveTrigger(): Promise<boolean> {
    const t = this.getState().trigger;
    if (!t) return false;
    return this.run('Saving the trigger', async () => {
      const request = { itemType: t.itemType.trim() || null, query: t.query, active: t.active };
      const saved = t.id ? await this.api.updateTrigger(this.connectionId, t.id, request) : await this.api.createTrigger(this.connectionId, request);
      if (!saved.ok) {
        this.setState({ triggerError: saved.error.message });
        return false;
      }
      this.setState((s) => ({
        triggers: t.id ? s.triggers.map((x) => (x.id === t.id ? saved.value : x)) : [...s.triggers, saved.value],
        trigger: null,
        preview: null,
        notice: t.id ? 'Trigger saved' : 'Trigger added: matching items sync from their next change. Use Bulk sync for those that match now.',
      }));
      return true;
    });
  }

  async setTriggerActive(trigger: TriggerView, active: boolean): Promise<boolean> {
    return this.run(active ? 'Activating the trigger' : 'Deactivating the trigger', async () => {
      const saved = await this.api.updateTrigger(this.connectionId, trigger.id, { itemType: trigger.itemType, query: trigger.query, active });
      if (!saved.ok) return this.fail(saved.error);
      this.setState((s) => ({
        triggers: s.triggers.map((x) => (x.id === trigger.id ? saved.value : x)),
        notice: active ? 'Trigger activated' : 'Trigger deactivated',
      }));
      return true;
    });
  }

  async deleteTrigger(triggerId: string): Promise<boolean> {
    return this.run('Deleting the trigger', async () => {
      const done = await this.api.deleteTrigger(this.connectionId, triggerId);
      if (!done.ok) return this.fail(done.error);
      this.setState((s) => ({ triggers: s.triggers.filter((x) => x.id !== triggerId), notice: 'Trigger deleted' }));
      return true;
    });
  }

  /**
   * Syncs everything the trigger matches now, and follows the progress until it is done (an item
   * counts once the partner has it, or once it failed) or the screen is closed.
   */
  async bulkSync(triggerId: string, pollMs = 1000): Promise<boolean> {
    const started = await this.run('Starting bulk sync', async () => {
      const bulk = await this.api.bulkSync(this.connectionId, triggerId);
      if (!bulk.ok) return this.fail(bulk.error);
      this.setState({ bulk: bulk.value, notice: `Bulk sync started: ${bulk.value.total === 1 ? '1 item' : `${bulk.value.total} items`}` });
      return true;
    });
    if (!started) return false;
    while (!this.getState().bulk?.done) {
      await this.wait(pollMs);
      if (this.closed) return true;
      const bulk = await this.api.getBulkSync(this.connectionId, this.getState().bulk!.id);
      if (!bulk.ok) return this.fail(bulk.error);
      this.setState({ bulk: bulk.value });
    }
    await this.refreshQueue();
    return true;
  }

  // ── queue ──

  async refreshQueue(): Promise<void> {
    const queue = await this.api.getQueue(this.connectionId);
    if (!queue.ok) return void this.setState({ banner: queue.error });
    this.setState({ queue: queue.value });
  }

  setSyncNowKey(key: string): void {
    this.setState({ syncNowKey: key, syncNowError: null });
  }

  /** "Sync now" for one item by its key (or number). */
  async syncNow(): Promise<boolean> {
    const key = this.getState().syncNowKey.trim();
    if (!key) {
      this.setState({ syncNowError: 'Enter the key or number of the item to sync.' });
      return false;
    }
    return this.run('Starting the sync', async () => {
      const done = await this.api.syncNow(this.connectionId, key);
      if (!done.ok) {
        this.setState({ syncNowError: done.error.message });
        return false;
      }
      this.setState({ syncNowKey: '', notice: `${done.value.key} is queued to sync` });
      await this.refreshQueue();
      return true;
    });
  }

  async retry(key: string): Promise<boolean> {
    return this.run('Retrying', async () => {
      const done = await this.api.retryItem(this.connectionId, key);
      if (!done.ok) return this.fail(done.error);
      this.setState({ notice: `${key} is queued again` });
      await this.refreshQueue();
      return true;
    });
  }

  async retryAllFailed(): Promise<boolean> {
    return this.run('Retrying the failed items', async () => {
      const done = await this.api.retryFailed(this.connectionId);
      if (!done.ok) return this.fail(done.error);
      this.setState({ notice: done.value.retried === 1 ? '1 item is queued again' : `${done.value.retried} items are queued again` });
      await this.refreshQueue();
      return true;
    });
  }

  private fail(error: ClientError): false {
    this.setState({ banner: error });
    return false;
  }

  private async run(label: string, action: () => Promise<boolean>): Promise<boolean> {
    if (this.getState().busy) return false;
    this.setState({ busy: label, banner: null, notice: null });
    try {
      return await action();
    } finally {
      this.setState({ busy: null });
    }
  }
}
