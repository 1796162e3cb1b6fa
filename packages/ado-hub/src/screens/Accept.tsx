import * as React from 'react';
import { Button } from 'azure-devops-ui/Button';
import { ButtonGroup } from 'azure-devops-ui/ButtonGroup';
import { Spinner, SpinnerSize } from 'azure-devops-ui/Spinner';
import { ACCEPT_STEPS, GUIDE, MODE_LABELS, NODE_TYPE_LABELS, formatTime, type AcceptFlow } from '@exalate/wizard-core';
import { Banner, Field, ProjectPicker, StepHeading, SubmitButton, WizardDialog } from '../components.js';
import { useStore } from '../use-store.js';

/** Accept invitation: the wizard core's AcceptFlow, in a dialog over the Connections list. */
export function AcceptDialog(props: { flow: AcceptFlow; onClose: () => void }): JSX.Element {
  const { flow } = props;
  const s = useStore(flow);
  const doneRef = React.useRef<HTMLHeadingElement>(null);
  React.useEffect(() => {
    if (s.step === 'established' || s.step === 'awaiting-initiator') doneRef.current?.focus();
  }, [s.step]);

  if (s.step === 'established' || s.step === 'awaiting-initiator') {
    return (
      <WizardDialog title={GUIDE.acceptDialogTitle} onClose={props.onClose}>
        <div className="exalate-form">
          {s.step === 'established' ? (
            <>
              <h2 tabIndex={-1} ref={doneRef} className="exalate-success">
                {GUIDE.congratulations}
              </h2>
              <p>{GUIDE.connectionEstablished}</p>
              <p className="exalate-hint">
                <strong>{s.connection?.name}</strong> is Active. Set up what it syncs: the rules for each direction and the triggers that pick work items.
              </p>
              <ButtonGroup className="exalate-actions">
                <Button text={GUIDE.configureSync} primary onClick={() => flow.configureSync()} />
              </ButtonGroup>
            </>
          ) : (
            <>
              <h2 tabIndex={-1} ref={doneRef}>
                Invitation accepted
              </h2>
              <p>
                The initiating node is private, so it completes the connection the next time it checks in (within a minute while it runs). The connection shows
                as Pending until then.
              </p>
              <ButtonGroup className="exalate-actions">
                <Button text="Close" primary onClick={props.onClose} />
              </ButtonGroup>
            </>
          )}
        </div>
      </WizardDialog>
    );
  }

  const p = s.preview;
  return (
    <WizardDialog title={GUIDE.acceptDialogTitle} onClose={props.onClose}>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          void flow.next();
        }}
        className="exalate-form"
        aria-busy={s.busy}
        noValidate
      >
        <StepHeading index={ACCEPT_STEPS.indexOf(s.step)} count={ACCEPT_STEPS.length - 1} title={flow.stepTitle} />
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
            <p>{GUIDE.projectIntro}</p>
            <ProjectPicker
              projects={s.projects}
              value={s.project}
              label={GUIDE.projectLabelAccept}
              error={s.errors.project}
              loading={s.busy}
              onChange={(key) => flow.setProject(key)}
            />
          </>
        )}

        <ButtonGroup className="exalate-actions">
          {s.step === 'project' ? (
            <Button text={GUIDE.previous} iconProps={{ iconName: 'ChevronLeft' }} disabled={!flow.canGoBack()} onClick={() => flow.back()} />
          ) : null}
          <SubmitButton text={s.step === 'project' ? GUIDE.confirm : GUIDE.next} onSubmit={() => void flow.next()} disabled={s.busy} />
          {s.busy ? <Spinner size={SpinnerSize.small} ariaLabel="Working" /> : null}
        </ButtonGroup>
      </form>
    </WizardDialog>
  );
}
