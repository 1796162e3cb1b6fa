import { Fragment } from 'react';
import { ITEM_STATUS_LABELS, type QueueOverview, type TrackerWords } from '@exalate/wizard-core';
import { Banner, Button, Notice, Working } from '../components.js';
import { useStore } from '../use-store.js';
import { AttentionTable } from './AttentionTable.js';

/** The *Sync queue* module: every connection's queue, what needs attention, and retry. */
export function QueueScreen(props: { overview: QueueOverview; words: TrackerWords; onConfigure: (id: string) => void }) {
  const { overview, words } = props;
  const s = useStore(overview);
  const busy = !!s.busy;
  return (
    <section className="exalate-screen" aria-labelledby="queue-heading" aria-busy={s.loading || busy}>
      <div className="now-list-header">
        <div>
          <h1 id="queue-heading">Sync queue</h1>
          <p className="exalate-hint">What each connection has synced, what waits, and what failed. Retry a failed {words.item} once its cause is fixed.</p>
        </div>
        <div className="exalate-actions">
          <Button appearance="tertiary" onClick={() => void overview.load()} disabled={s.loading || busy}>
            Refresh
          </Button>
        </div>
      </div>
      <Banner error={s.banner} />
      <Notice text={s.notice} />
      {s.loading && !s.loaded ? <Working label="Loading the sync queue…" size="medium" /> : null}
      {s.loaded && !s.rows.length ? <p className="exalate-empty">No connections yet, so nothing is queued.</p> : null}
      {s.rows.map(({ connection, queue, error }) => (
        <section key={connection.id} className="now-card" aria-labelledby={`queue-${connection.id}`} data-testid={`queue-${connection.name}`}>
          <div className="exalate-title-row">
            <h2 id={`queue-${connection.id}`}>{connection.name}</h2>
            <Button appearance="tertiary" onClick={() => props.onConfigure(connection.id)}>
              Configure sync
            </Button>
          </div>
          {error ? <Banner error={error} /> : null}
          {!queue && !error ? <p className="exalate-hint">Not established yet: nothing syncs until the partner accepts the invitation.</p> : null}
          {queue ? (
            <>
              <dl className="exalate-summary exalate-counts" data-testid="queue-counts">
                {(['PENDING', 'SYNCED', 'FAILED', 'UNSYNCED'] as const).map((k) => (
                  <Fragment key={k}>
                    <dt>{ITEM_STATUS_LABELS[k]}</dt>
                    <dd data-count={k}>{queue.items[k] ?? 0}</dd>
                  </Fragment>
                ))}
                <dt>Waiting to be sent</dt>
                <dd>{queue.outbox}</dd>
                <dt>Received, not applied yet</dt>
                <dd>{queue.inbox}</dd>
              </dl>
              <div className="exalate-actions">
                <Button
                  onClick={() => void overview.retryAllFailed(connection.id)}
                  disabled={busy || !(queue.items.FAILED ?? 0)}
                  aria-label={`Retry all failed: ${connection.name}`}
                >
                  Retry all failed
                </Button>
              </div>
              {queue.attention.length ? (
                <AttentionTable
                  label={`Records that need attention: ${connection.name}`}
                  items={queue.attention}
                  words={words}
                  busy={busy}
                  onRetry={(key) => void overview.retry(connection.id, key)}
                />
              ) : (
                <p className="exalate-empty">Nothing needs attention.</p>
              )}
            </>
          ) : null}
        </section>
      ))}
    </section>
  );
}
