import Button from '@atlaskit/button/new';
import DynamicTable from '@atlaskit/dynamic-table';
import Lozenge from '@atlaskit/lozenge';
import type { ConnectionStatus } from '@exalate/contract';
import { ACTION_LABELS, GUIDE, type ConnectionAction, type ConnectionList, type TrackerWords } from '@exalate/wizard-core';
import { Banner, ConfirmDialog, Notice, Working } from '../components.js';
import { useStore } from '../use-store.js';

const STATUS_APPEARANCE: Record<ConnectionStatus, 'inprogress' | 'success' | 'default' | 'removed'> = {
  PENDING: 'inprogress',
  ACTIVE: 'success',
  DEACTIVATED: 'default',
  ERROR: 'removed',
};

// Widths in percent, so a long partner URL does not squeeze the connection's name.
const HEAD = {
  cells: (
    [
      ['Name', 24],
      ['Partner', 30],
      ['Mode', 9],
      ['Status', 13],
      ['Actions', 24],
    ] as const
  ).map(([c, width]) => ({ key: c, content: c, width })),
};

/** The Connections list (loaded and kept up to date by the list itself while it is shown). */
export function ConnectionsScreen(props: {
  list: ConnectionList;
  words: TrackerWords;
  onConfigure: (id: string) => void;
  onInitiate: () => void;
  onAccept: () => void;
}) {
  const { list } = props;
  const s = useStore(list);
  const run = (id: string, action: ConnectionAction) => (action === 'configure' ? props.onConfigure(id) : list.request(id, action));

  const rows = s.rows.map((row) => ({
    key: row.id,
    testId: `connection-${row.name}`,
    cells: [
      { key: 'name', content: <span className="exalate-breakable">{row.name}</span> },
      { key: 'partner', content: <span className="exalate-breakable">{row.partner}</span> },
      { key: 'mode', content: row.mode },
      {
        key: 'status',
        content: (
          <>
            <span data-testid="status">
              <Lozenge appearance={STATUS_APPEARANCE[row.status]}>{row.statusLabel}</Lozenge>
            </span>
            {row.statusReason ? <div className="exalate-hint">{row.statusReason}</div> : null}
          </>
        ),
      },
      {
        key: 'actions',
        content: (
          <div className="exalate-row-actions">
            {row.actions.map((action) => (
              <Button
                key={action}
                appearance={action === 'delete' ? 'danger' : action === 'configure' ? 'default' : 'subtle'}
                aria-label={`${ACTION_LABELS[action]}: ${row.name}`}
                isDisabled={s.pending.includes(row.id)}
                onClick={() => run(row.id, action)}
              >
                {ACTION_LABELS[action]}
              </Button>
            ))}
          </div>
        ),
      },
    ],
  }));

  return (
    <section className="exalate-screen" aria-labelledby="connections-heading">
      <h1 id="connections-heading">{GUIDE.connections}</h1>
      <p className="exalate-hint">{GUIDE.connectionsSubtitle}</p>
      <div className="exalate-actions">
        <Button appearance="primary" onClick={props.onInitiate}>
          {GUIDE.initiateConnection}
        </Button>
        <Button onClick={props.onAccept}>{props.words.acceptInvitation}</Button>
        <Button appearance="subtle" onClick={() => void list.load()} isDisabled={s.loading}>
          Refresh
        </Button>
      </div>
      <Banner error={s.error} />
      <Notice text={s.notice} />
      <ConfirmDialog confirmation={s.confirming} onConfirm={() => void list.confirm()} onCancel={() => list.cancelConfirmation()} />
      {s.loading && !s.rows.length ? <Working label="Loading connections…" size="medium" /> : null}
      {s.loaded && !s.loading && !s.rows.length && !s.error ? (
        <p className="exalate-empty">No connections yet. Initiate a connection, or accept the invitation code a partner sent you.</p>
      ) : null}
      {s.rows.length ? (
        <div className="exalate-table" role="region" aria-label="Connections">
          <DynamicTable head={HEAD} rows={rows} isFixedSize={false} label="Connections" />
        </div>
      ) : null}
    </section>
  );
}
