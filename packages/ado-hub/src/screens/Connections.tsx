import * as React from 'react';
import { Button } from 'azure-devops-ui/Button';
import { ButtonGroup } from 'azure-devops-ui/ButtonGroup';
import { Card } from 'azure-devops-ui/Card';
import { Spinner, SpinnerSize } from 'azure-devops-ui/Spinner';
import { Status, StatusSize, Statuses, type IStatusProps } from 'azure-devops-ui/Status';
import type { ConnectionStatus } from '@exalate/contract';
import { ACTION_LABELS, GUIDE, type ConnectionAction, type ConnectionList, type TrackerWords } from '@exalate/wizard-core';
import { Banner, ConfirmDialog, Notice } from '../components.js';
import { useStore } from '../use-store.js';

const STATUS_ICON: Record<ConnectionStatus, IStatusProps> = {
  PENDING: Statuses.Waiting,
  ACTIVE: Statuses.Success,
  DEACTIVATED: Statuses.Canceled,
  ERROR: Statuses.Failed,
};

/** The Connections list (loaded and kept up to date by the list itself while it is shown). */
export function ConnectionsScreen(props: {
  list: ConnectionList;
  words: TrackerWords;
  onConfigure: (id: string) => void;
  onInitiate: () => void;
  onAccept: () => void;
}): JSX.Element {
  const { list } = props;
  const s = useStore(list);

  const run = (id: string, action: ConnectionAction) => {
    if (action === 'configure') return props.onConfigure(id);
    list.request(id, action);
  };

  return (
    <Card className="exalate-card" titleProps={{ text: GUIDE.connections, ariaLevel: 1 }}>
      <div className="exalate-list">
        <p className="exalate-hint">{GUIDE.connectionsSubtitle}</p>
        {/* A wrapping row of buttons rather than the card's command bar, which hides actions in a menu when narrow. */}
        <ButtonGroup className="exalate-actions">
          <Button text={GUIDE.initiateConnection} primary iconProps={{ iconName: 'Add' }} onClick={props.onInitiate} />
          <Button text={props.words.acceptInvitation} onClick={props.onAccept} />
          <Button text="Refresh" iconProps={{ iconName: 'Refresh' }} onClick={() => void list.load()} disabled={s.loading} />
        </ButtonGroup>
        <Banner error={s.error} />
        <Notice text={s.notice} />
        <ConfirmDialog confirmation={s.confirming} onConfirm={() => void list.confirm()} onCancel={() => list.cancelConfirmation()} />
        {s.loading && !s.rows.length ? <Spinner size={SpinnerSize.medium} label="Loading connections…" /> : null}
        {s.loaded && !s.loading && !s.rows.length && !s.error ? (
          <p className="exalate-empty">No connections yet. Initiate a connection, or accept the invitation code a partner sent you.</p>
        ) : null}
        {s.rows.length ? (
          <table className="exalate-table" aria-label="Connections">
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Partner</th>
                <th scope="col">Mode</th>
                <th scope="col">Status</th>
                <th scope="col">Actions</th>
              </tr>
            </thead>
            <tbody>
              {s.rows.map((row) => (
                <tr key={row.id} data-connection={row.name}>
                  <th scope="row" className="exalate-breakable">
                    {row.name}
                  </th>
                  <td className="exalate-breakable">{row.partner}</td>
                  <td>{row.mode}</td>
                  <td>
                    <span className="exalate-status">
                      <Status {...STATUS_ICON[row.status]} size={StatusSize.m} ariaLabel={row.statusLabel} />
                      <span data-testid="status" aria-hidden="true">
                        {row.statusLabel}
                      </span>
                    </span>
                    {row.statusReason ? <div className="exalate-hint">{row.statusReason}</div> : null}
                  </td>
                  <td className="exalate-row-actions">
                    {row.actions.map((action) => (
                      <Button
                        key={action}
                        text={ACTION_LABELS[action]}
                        ariaLabel={`${ACTION_LABELS[action]}: ${row.name}`}
                        // A danger button is filled (red); subtle would hide its white text.
                        subtle={action !== 'configure' && action !== 'delete'}
                        danger={action === 'delete'}
                        disabled={s.pending.includes(row.id)}
                        onClick={() => run(row.id, action)}
                      />
                    ))}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        ) : null}
      </div>
    </Card>
  );
}
