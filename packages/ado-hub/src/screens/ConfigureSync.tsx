import * as React from 'react';
import { Button } from 'azure-devops-ui/Button';
import { ButtonGroup } from 'azure-devops-ui/ButtonGroup';
import { Card } from 'azure-devops-ui/Card';
import { FormItem } from 'azure-devops-ui/FormItem';
import { Spinner, SpinnerSize } from 'azure-devops-ui/Spinner';
import { Toggle } from 'azure-devops-ui/Toggle';
import { Dropdown } from 'azure-devops-ui/Dropdown';
import { DropdownSelection } from 'azure-devops-ui/Utilities/DropdownSelection';
import {
  ITEM_STATUS_LABELS,
  capitalize,
  previewHeadline,
  ruleHints,
  type ConfigureSyncFlow,
  type RuleDirection,
  type TrackerWords,
} from '@exalate/wizard-core';
import { Banner, Field, Notice, SubmitButton } from '../components.js';
import { useStore } from '../use-store.js';

// The code editor (CodeMirror) is about a third of the hub's script, and only this screen needs it:
// a chunk of its own, fetched while the admin is still on the connection list (prefetch).
const CodeEditor = React.lazy(() =>
  import(/* webpackChunkName: "code-editor", webpackPrefetch: true */ '../CodeEditor.js').then((m) => ({ default: m.CodeEditor })),
);

/** The trigger's item type, chosen from the tracker's types ("Any" for every type). */
function ItemTypePicker(props: { types: string[]; value: string; label: string; onChange: (v: string) => void }): JSX.Element {
  const selection = React.useMemo(() => new DropdownSelection(), []);
  const items = React.useMemo(() => [{ id: '', text: 'Any' }, ...props.types.map((t) => ({ id: t, text: t }))], [props.types]);
  React.useEffect(() => {
    const i = items.findIndex((x) => x.id === props.value);
    selection.select(i >= 0 ? i : 0);
  }, [items, props.value]);
  return (
    <FormItem label={props.label}>
      <Dropdown ariaLabel={props.label} items={items} selection={selection} onSelect={(_e, item) => props.onChange(item.id)} />
    </FormItem>
  );
}

/** Configure sync of one connection (the flow loads itself while shown, and stops following a bulk sync when it is not). */
export function ConfigureSyncScreen(props: { flow: ConfigureSyncFlow; words: TrackerWords; onBack: () => void }): JSX.Element {
  const { flow, words } = props;
  const s = useStore(flow);

  const c = s.connection;
  const hints = ruleHints(c?.remoteShortName, words);
  const title = c ? `Configure sync: ${c.name}` : 'Configure sync';
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
        <React.Suspense fallback={<Spinner size={SpinnerSize.small} label="Loading the editor…" />}>
          <CodeEditor
            id={`${direction}-rule`}
            label={heading}
            value={s.draft[direction]}
            onChange={(v) => flow.setRule(direction, v)}
            readOnly={!s.rules?.editable}
            describedBy={s.ruleErrors[direction] ? errorId : undefined}
          />
        </React.Suspense>
        {s.ruleErrors[direction] ? (
          <p id={errorId} className="exalate-error" role="alert">
            {s.ruleErrors[direction]}
          </p>
        ) : null}
        {s.rules?.editable && !isDefault ? (
          <Button text="Restore the default rule" subtle onClick={() => void flow.restoreDefault(direction)} disabled={busy} />
        ) : null}
      </section>
    );
  };

  return (
    <Card
      className="exalate-card"
      titleProps={{ text: title, ariaLevel: 1 }}
      headerCommandBarItems={[{ id: 'back', role: 'button', text: 'Back to connections', important: true, onActivate: () => props.onBack() }]}
    >
      <div className="exalate-form" aria-busy={s.loading || busy}>
        <Banner error={s.banner} />
        <Notice text={s.notice} />
        {s.loading ? <Spinner size={SpinnerSize.medium} label="Loading the sync settings…" /> : null}
        {busy ? <Spinner size={SpinnerSize.small} label={`${s.busy}…`} /> : null}

        {s.rules ? (
          <section className="exalate-section" aria-labelledby="rules-heading">
            <h2 id="rules-heading">Sync rules</h2>
            {!s.rules.editable ? <p className="exalate-hint">This is a Basic connection: it syncs with the default rules, which cannot be changed.</p> : null}
            {rule('outgoing', 'Outgoing sync', hints.outgoing)}
            {rule('incoming', 'Incoming sync', hints.incoming)}
            {s.rules.editable ? (
              <ButtonGroup className="exalate-actions">
                <Button text="Save rules" primary onClick={() => void flow.saveRules()} disabled={busy || !flow.rulesChanged} />
              </ButtonGroup>
            ) : null}
          </section>
        ) : null}

        {c ? (
          <section className="exalate-section" aria-labelledby="triggers-heading">
            <h2 id="triggers-heading">Triggers</h2>
            <p className="exalate-hint">{capitalize(words.items)} that match an active trigger are synced when they are created and on every change after.</p>
            {s.triggers.length ? (
              <table className="exalate-table" aria-label="Triggers">
                <thead>
                  <tr>
                    <th scope="col">{words.itemType}</th>
                    <th scope="col">Query ({words.queryLanguage})</th>
                    <th scope="col">Active</th>
                    <th scope="col">Actions</th>
                  </tr>
                </thead>
                <tbody>
                  {s.triggers.map((t) => (
                    <tr key={t.id} data-trigger={t.query}>
                      <td>{t.itemType ?? 'Any'}</td>
                      <th scope="row" className="exalate-code">
                        {t.query || '(every item)'}
                      </th>
                      <td>{t.active ? 'Active' : 'Inactive'}</td>
                      <td className="exalate-row-actions">
                        <Button text="Edit" subtle ariaLabel={`Edit trigger ${t.query}`} onClick={() => flow.editTrigger(t)} disabled={busy} />
                        <Button
                          text={t.active ? 'Deactivate' : 'Activate'}
                          subtle
                          ariaLabel={`${t.active ? 'Deactivate' : 'Activate'} trigger ${t.query}`}
                          onClick={() => void flow.setTriggerActive(t, !t.active)}
                          disabled={busy}
                        />
                        <Button
                          text="Bulk sync"
                          subtle
                          ariaLabel={`Bulk sync what trigger ${t.query} matches`}
                          onClick={() => void flow.bulkSync(t.id)}
                          disabled={busy || (!!s.bulk && !s.bulk.done)}
                        />
                        <Button text="Delete" danger ariaLabel={`Delete trigger ${t.query}`} onClick={() => void flow.deleteTrigger(t.id)} disabled={busy} />
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            ) : (
              <p className="exalate-empty">No triggers yet: nothing syncs by itself. Add one, or sync single items with Sync now.</p>
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
                  <ItemTypePicker types={s.itemTypes} value={s.trigger.itemType} label={words.itemType} onChange={(v) => flow.setTrigger('itemType', v)} />
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
                <Toggle text="Active" checked={s.trigger.active} onChange={(_e, v) => flow.setTrigger('active', v)} />
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
                      <p>No {words.item} matches now. The trigger still picks up items that match later.</p>
                    )}
                  </div>
                ) : null}
                <ButtonGroup className="exalate-actions">
                  <Button text={`Preview matching ${words.items}`} onClick={() => void flow.previewTrigger()} disabled={busy} />
                  <SubmitButton text="Save trigger" onSubmit={() => void flow.saveTrigger()} disabled={busy} />
                  <Button text="Cancel" subtle onClick={() => flow.cancelTrigger()} disabled={busy} />
                </ButtonGroup>
              </form>
            ) : (
              <ButtonGroup className="exalate-actions">
                <Button text="Add trigger" iconProps={{ iconName: 'Add' }} onClick={() => flow.editTrigger(null)} disabled={busy} />
              </ButtonGroup>
            )}
          </section>
        ) : null}

        {s.queue ? (
          <section className="exalate-section" aria-labelledby="queue-heading">
            <h2 id="queue-heading">Sync queue</h2>
            <dl className="exalate-summary exalate-counts" data-testid="queue-counts">
              {(['PENDING', 'SYNCED', 'FAILED', 'UNSYNCED'] as const).map((k) => (
                <React.Fragment key={k}>
                  <dt>{ITEM_STATUS_LABELS[k]}</dt>
                  <dd data-count={k}>{s.queue!.items[k] ?? 0}</dd>
                </React.Fragment>
              ))}
              <dt>Waiting to be sent</dt>
              <dd>{s.queue.outbox}</dd>
              <dt>Received, not applied yet</dt>
              <dd>{s.queue.inbox}</dd>
            </dl>
            <ButtonGroup className="exalate-actions">
              <Button text="Refresh" iconProps={{ iconName: 'Refresh' }} onClick={() => void flow.refreshQueue()} disabled={busy} />
              <Button text="Retry all failed" onClick={() => void flow.retryAllFailed()} disabled={busy || !(s.queue.items.FAILED ?? 0)} />
            </ButtonGroup>
            {s.queue.attention.length ? (
              <table className="exalate-table" aria-label="Items that need attention">
                <thead>
                  <tr>
                    <th scope="col">{capitalize(words.item)}</th>
                    <th scope="col">Partner item</th>
                    <th scope="col">Status</th>
                    <th scope="col">Error</th>
                    <th scope="col">Actions</th>
                  </tr>
                </thead>
                <tbody>
                  {s.queue.attention.map((item) => {
                    const key = item.localKey ?? item.remoteKey ?? '';
                    return (
                      <tr key={`${item.localKey}/${item.remoteKey}`} data-item={key}>
                        <th scope="row">{item.localKey ?? '(not created yet)'}</th>
                        <td>{item.remoteKey ?? '—'}</td>
                        <td>{ITEM_STATUS_LABELS[item.status]}</td>
                        <td>
                          {item.error ? (
                            <>
                              <span className="exalate-code">{item.error.code}</span> ({item.error.direction}
                              {item.error.line ? `, line ${item.error.line}` : ''}): {item.error.message}
                            </>
                          ) : (
                            '—'
                          )}
                        </td>
                        <td>
                          {item.status === 'FAILED' ? (
                            <Button text="Retry" ariaLabel={`Retry ${key}`} onClick={() => void flow.retry(key)} disabled={busy} />
                          ) : null}
                        </td>
                      </tr>
                    );
                  })}
                </tbody>
              </table>
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
                label={`Sync now: ${words.item} key or number`}
                value={s.syncNowKey}
                onChange={(v) => flow.setSyncNowKey(v)}
                error={s.syncNowError ?? undefined}
                hint={`Syncs one ${words.item} whether or not a trigger matches it.`}
              />
              <SubmitButton text="Sync now" primary={false} onSubmit={() => void flow.syncNow()} disabled={busy} />
            </form>
          </section>
        ) : null}
      </div>
    </Card>
  );
}
