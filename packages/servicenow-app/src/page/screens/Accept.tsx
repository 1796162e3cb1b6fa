import { useEffect, useRef } from 'react';
import { GUIDE, MODE_LABELS, NODE_TYPE_LABELS, formatTime, type AcceptFlow } from '@exalate/wizard-core';
import { Banner, Button, Field, WizardDialog, Working } from '../components.js';
import { useStore } from '../use-store.js';

/** Accept the invitation: the wizard core's AcceptFlow, in a dialog over the Connections list. */
export function AcceptDialog(props: { flow: AcceptFlow; onClose: () => void }) {
  const { flow } = props;
  const s = useStore(flow);
  const doneRef = useRef<HTMLHeadingElement>(null);
  const finished = s.step === 'established' || s.step === 'awaiting-initiator';
  useEffect(() => {
    if (finished) doneRef.current?.focus();
  }, [finished]);

  if (finished) {
    return (
      <WizardDialog
        title={GUIDE.acceptDialogTitle}
        onClose={props.onClose}
        footer={
          s.step === 'established' ? (
            <Button appearance="primary" onClick={() => flow.configureSync()}>
              {GUIDE.configureSync}
            </Button>
          ) : (
            <Button appearance="primary" onClick={props.onClose}>
              Close
            </Button>
          )
        }
      >
        {s.step === 'established' ? (
          <>
            <h2 tabIndex={-1} ref={doneRef} className="exalate-success">
              {GUIDE.congratulations}
            </h2>
            <p className="exalate-sides" data-testid="established-sides">
              <span>{s.connection?.localShortName}</span>
              <span aria-label="and" className="exalate-link-icon">
                ⇄
              </span>
              <span>{s.connection?.remoteShortName}</span>
            </p>
            <p>{GUIDE.connectionEstablished}</p>
            <p className="exalate-hint">
              <strong>{s.connection?.name}</strong> is Active. Records from the other side are created in the {s.connection?.project} table; set up what syncs
              (the rules for each direction, the triggers that pick records) in Configure sync.
            </p>
          </>
        ) : (
          <>
            <h2 tabIndex={-1} ref={doneRef}>
              Invitation accepted
            </h2>
            <p>
              The initiating node is private, so it completes the connection the next time it checks in (within a minute while it runs). The connection shows as
              Pending until then.
            </p>
          </>
        )}
      </WizardDialog>
    );
  }

  const p = s.preview;
  const footer = (
    <>
      {s.busy ? <Working label="Working" /> : null}
      {s.step === 'project' ? (
        <Button appearance="tertiary" disabled={!flow.canGoBack()} onClick={() => flow.back()}>
          {GUIDE.previous}
        </Button>
      ) : null}
      <Button appearance="primary" type="submit" disabled={s.busy}>
        {GUIDE.next}
      </Button>
    </>
  );
  return (
    <WizardDialog title={GUIDE.acceptDialogTitle} onClose={props.onClose} onSubmit={() => void flow.next()} busy={s.busy} footer={footer}>
      <h2 className="exalate-step">{flow.stepTitle}</h2>
      <Banner error={s.banner} />
      {s.step === 'code' && (
        <Field
          id="invitation-code"
          label="Invitation code"
          value={s.code}
          error={s.errors.code}
          onChange={(v) => flow.setCode(v)}
          placeholder={GUIDE.invitationCodePlaceholder}
          multiline
          monospace
          autoFocus
        />
      )}
      {s.step === 'project' && p && (
        <>
          <dl className="exalate-summary" data-testid="invitation-preview">
            <dt>Connection</dt>
            <dd>{p.nameTaken ? '(choose a new name below)' : p.connectionName}</dd>
            {p.description ? (
              <>
                <dt>Description</dt>
                <dd>{p.description}</dd>
              </>
            ) : null}
            <dt>Partner</dt>
            <dd>
              {p.remoteShortName}: {NODE_TYPE_LABELS[p.initiator.nodeType]} at {p.initiator.trackerUrl}
              {p.initiator.private ? ' (private)' : ''}
            </dd>
            <dt>This side</dt>
            <dd>{p.localShortName}</dd>
            <dt>Configuration type</dt>
            <dd>{MODE_LABELS[p.mode]}</dd>
            <dt>Expires</dt>
            <dd>{formatTime(p.expiresAt)}</dd>
          </dl>
          {p.nameTaken ? (
            <Field
              id="connection-name"
              label={GUIDE.connectionName}
              value={s.name}
              error={s.errors.name}
              onChange={(v) => flow.setName(v)}
              hint="A connection with the invitation's name exists here already: choose another name."
              required
              autoFocus
            />
          ) : null}
        </>
      )}
    </WizardDialog>
  );
}
