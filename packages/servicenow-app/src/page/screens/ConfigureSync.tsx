import { Fragment, Suspense, lazy } from 'react';
import {
  ITEM_STATUS_LABELS,
  capitalize,
  previewHeadline,
  ruleHints,
  type ConfigureSyncFlow,
  type RuleDirection,
  type TrackerWords,
} from '@exalate/wizard-core';
import { Banner, Button, Choice, Field, ListTable, Notice, TablePicker, Toggle, Working } from '../components.js';
import { useStore } from '../use-store.js';
import { AttentionTable } from './AttentionTable.js';

// CodeMirror is most of the page's script and only this screen needs it: a chunk of its own.
const CodeEditor = lazy(() => import(/* webpackChunkName: "code-editor", webpackPrefetch: true */ '../CodeEditor.js').then((m) => ({ default: m.CodeEditor })));

/** Configure sync of one connection: the table for incoming records, rules, encoded-query triggers with their preview and bulk sync, the queue. */
export function ConfigureSyncScreen(props: { flow: ConfigureSyncFlow; words: TrackerWords; onBack: () => void }) {
  const { flow, words } = props;
  const s = useStore(flow);
  const c = s.connection;
  const hints = ruleHints(c?.remoteShortName, words);
  const busy = !!s.busy;

  const rule = (direction: RuleDirection, heading: string, hint: string) => {
    const errorId = `${direction}-rule-error`;
    const isDefault = direction === 'outgoing' ? s.rules?.outgoingIsDefault : s.rules?.incomingIsDefault;
    return (
      <section className="exalate-section" aria-labelledby={`${direction}-rule-heading`}>
        <h3 id={`${direction}-rule-heading`}>{heading}</h3>
        <p className="exalate-hint">
          {hint} {isDefault ? '(the default rule)' : ''}
        </p>
        <Suspense fallback={<Working label="Loading the editor…" size="medium" />}>
          <CodeEditor
            id={`${direction}-rule`}
            label={heading}
            value={s.draft[direction]}
            onChange={(v) => flow.setRule(direction, v)}
            readOnly={!s.rules?.editable}
            describedBy={s.ruleErrors[direction] ? errorId : undefined}
          />
        </Suspense>
        {s.ruleErrors[direction] ? (
          <p id={errorId} className="exalate-error" role="alert">
            {s.ruleErrors[direction]}
          </p>
        ) : null}
        {s.rules?.editable && !isDefault ? (
          <div>
            <Button appearance="tertiary" onClick={() => void flow.restoreDefault(direction)} disabled={busy}>
              Restore the default rule
            </Button>
          </div>
        ) : null}
      </section>
    );
  };

  const triggerRows = s.triggers.map((t) => ({
    key: t.id,
    cells: [
      { key: 'type', content: t.itemType ?? 'Any' },
      { key: 'query', content: <code className="exalate-code">{t.query || '(every record)'}</code> },
      { key: 'active', content: t.active ? 'Active' : 'Inactive' },
      {
        key: 'actions',
        content: (
          <div className="exalate-row-actions">
            <Button appearance="tertiary" aria-label={`Edit trigger ${t.query}`} onClick={() => flow.editTrigger(t)} disabled={busy}>
              Edit
            </Button>
            <Button
              appearance="tertiary"
              aria-label={`${t.active ? 'Deactivate' : 'Activate'} trigger ${t.query}`}
              onClick={() => void flow.setTriggerActive(t, !t.active)}
              disabled={busy}
            >
              {t.active ? 'Deactivate' : 'Activate'}
            </Button>
            <Button
              appearance="tertiary"
              aria-label={`Bulk sync what trigger ${t.query} matches`}
              onClick={() => void flow.bulkSync(t.id)}
              disabled={busy || (!!s.bulk && !s.bulk.done)}
            >
              Bulk sync
            </Button>
            <Button appearance="danger" aria-label={`Delete trigger ${t.query}`} onClick={() => void flow.deleteTrigger(t.id)} disabled={busy}>
              Delete
            </Button>
          </div>
        ),
      },
    ],
  }));

  return (
    <section className="exalate-screen" aria-labelledby="configure-heading" aria-busy={s.loading || busy}>
      <div className="exalate-title-row">
        <h1 id="configure-heading">{c ? `Configure sync: ${c.name}` : 'Configure sync'}</h1>
        <Button appearance="tertiary" onClick={() => props.onBack()}>
          Back to connections
        </Button>
      </div>
      <Banner error={s.banner} />
      <Notice text={s.notice} />
      {s.loading ? <Working label="Loading the sync settings…" size="medium" /> : null}
      {busy ? <Working label={`${s.busy}…`} size="medium" /> : null}

      {c ? (
        <section className="now-card" aria-labelledby="table-heading">
          <h2 id="table-heading">Incoming records</h2>
          <TablePicker
            projects={s.projects}
            value={c.project}
            label="Create records from the other side in"
            loading={s.loading}
            onChange={(table) => void flow.setProject(table)}
            hint="Records synced already stay in their table; new ones go here from now on."
          />
        </section>
      ) : null}

      {s.rules ? (
        <section className="now-card" aria-labelledby="rules-heading">
          <h2 id="rules-heading">Sync rules</h2>
          {!s.rules.editable ? <p className="exalate-hint">This is a Basic connection: it syncs with the default rules, which cannot be changed.</p> : null}
          {rule('outgoing', 'Outgoing sync', hints.outgoing)}
          {rule('incoming', 'Incoming sync', hints.incoming)}
          {s.rules.editable ? (
            <div className="exalate-actions">
              <Button appearance="primary" onClick={() => void flow.saveRules()} disabled={busy || !flow.rulesChanged}>
                Save rules
              </Button>
            </div>
          ) : null}
        </section>
      ) : null}

      {c ? (
        <section className="now-card" aria-labelledby="triggers-heading">
          <h2 id="triggers-heading">Triggers</h2>
          <p className="exalate-hint">{capitalize(words.items)} that match an active trigger are synced when they are created and on every change after.</p>
          {s.triggers.length ? (
            <ListTable
              label="Triggers"
              head={[words.itemType, `Query (${words.queryLanguage})`, 'Active', 'Actions'].map((x) => ({ key: x, content: x }))}
              rows={triggerRows}
            />
          ) : (
            <p className="exalate-empty">No triggers yet: nothing syncs by itself. Add one, or sync single records with Sync now.</p>
          )}
          {s.bulk ? (
            <p role="status" data-testid="bulk-progress">
              Bulk sync: {s.bulk.synced + s.bulk.failed} of {s.bulk.total} done ({s.bulk.synced} synced, {s.bulk.failed} failed){s.bulk.done ? '.' : '…'}
            </p>
          ) : null}
          {s.trigger ? (
            <form
              className="exalate-form exalate-trigger-form"
              aria-label={s.trigger.id ? 'Edit trigger' : 'Add trigger'}
              onSubmit={(e) => {
                e.preventDefault();
                void flow.saveTrigger();
              }}
            >
              {s.itemTypes ? (
                <Choice
                  id="trigger-type"
                  label={words.itemType}
                  options={[{ label: 'Any', value: '' }, ...s.itemTypes.map((t) => ({ label: t, value: t }))]}
                  value={s.trigger.itemType}
                  onChange={(v) => flow.setTrigger('itemType', v)}
                />
              ) : (
                <Field
                  id="trigger-type"
                  label={words.itemType}
                  value={s.trigger.itemType}
                  onChange={(v) => flow.setTrigger('itemType', v)}
                  hint={`${words.itemTypeExamples}… Leave empty for every type.`}
                  autoFocus
                />
              )}
              <Field
                id="trigger-query"
                label={words.queryLabel}
                value={s.trigger.query}
                onChange={(v) => flow.setTrigger('query', v)}
                multiline
                monospace
                hint={words.queryHint}
                error={s.triggerError ?? undefined}
              />
              <Toggle id="trigger-active" checked={s.trigger.active} onChange={(checked) => flow.setTrigger('active', checked)} label="Active" />
              {s.preview ? (
                <div role="status" data-testid="trigger-preview">
                  {s.preview.items.length ? (
                    <>
                      <p>{previewHeadline(s.preview, words)}</p>
                      <ul className="exalate-preview">
                        {s.preview.items.map((i) => (
                          <li key={i.key}>
                            <a href={i.url} target="_blank" rel="noreferrer">
                              {i.key}
                            </a>{' '}
                            {i.summary}
                          </li>
                        ))}
                      </ul>
                    </>
                  ) : (
                    <p>No {words.item} matches now. The trigger still picks up records that match later.</p>
                  )}
                </div>
              ) : null}
              <div className="exalate-actions">
                <Button onClick={() => void flow.previewTrigger()} disabled={busy}>{`Preview matching ${words.items}`}</Button>
                <Button appearance="primary" type="submit" disabled={busy}>
                  Save trigger
                </Button>
                <Button appearance="tertiary" onClick={() => flow.cancelTrigger()} disabled={busy}>
                  Cancel
                </Button>
              </div>
            </form>
          ) : (
            <div className="exalate-actions">
              <Button onClick={() => flow.editTrigger(null)} disabled={busy}>
                Add trigger
              </Button>
            </div>
          )}
        </section>
      ) : null}

      {s.queue ? (
        <section className="now-card" aria-labelledby="queue-heading">
          <h2 id="queue-heading">Sync queue</h2>
          <dl className="exalate-summary exalate-counts" data-testid="queue-counts">
            {(['PENDING', 'SYNCED', 'FAILED', 'UNSYNCED'] as const).map((k) => (
              <Fragment key={k}>
                <dt>{ITEM_STATUS_LABELS[k]}</dt>
                <dd data-count={k}>{s.queue!.items[k] ?? 0}</dd>
              </Fragment>
            ))}
            <dt>Waiting to be sent</dt>
            <dd>{s.queue.outbox}</dd>
            <dt>Received, not applied yet</dt>
            <dd>{s.queue.inbox}</dd>
          </dl>
          <div className="exalate-actions">
            <Button onClick={() => void flow.refreshQueue()} disabled={busy}>
              Refresh
            </Button>
            <Button onClick={() => void flow.retryAllFailed()} disabled={busy || !(s.queue.items.FAILED ?? 0)}>
              Retry all failed
            </Button>
          </div>
          {s.queue.attention.length ? (
            <AttentionTable label="Records that need attention" items={s.queue.attention} words={words} busy={busy} onRetry={(key) => void flow.retry(key)} />
          ) : (
            <p className="exalate-empty">Nothing needs attention.</p>
          )}
          <form
            className="exalate-inline-form"
            aria-label="Sync now"
            onSubmit={(e) => {
              e.preventDefault();
              void flow.syncNow();
            }}
          >
            <Field
              id="sync-now-key"
              label={`Sync now: ${words.item} key`}
              value={s.syncNowKey}
              onChange={(v) => flow.setSyncNowKey(v)}
              error={s.syncNowError ?? undefined}
              hint={`Syncs one ${words.item} whether or not a trigger matches it.`}
            />
            <Button type="submit" disabled={busy}>
              Sync now
            </Button>
          </form>
        </section>
      ) : null}
    </section>
  );
}
