import * as React from 'react';
import { Button } from 'azure-devops-ui/Button';
import { ButtonGroup } from 'azure-devops-ui/ButtonGroup';
import { Card } from 'azure-devops-ui/Card';
import { Spinner, SpinnerSize } from 'azure-devops-ui/Spinner';
import { ACCEPT_STEPS, CONGRATULATIONS, MODE_LABELS, NODE_TYPE_LABELS, type AcceptFlow } from '@exalate/wizard-core';
import { Banner, Field, ProjectPicker, StepHeading, SubmitButton } from '../components.js';
import { useStore } from '../use-store.js';

const STEP_TITLES = { code: 'Invitation code', preview: 'Invitation', project: 'Project for incoming sync', confirm: 'Confirm' } as const;

export function AcceptScreen(props: { flow: AcceptFlow; onConfigure: (connectionId: string) => void; onClose: () => void }): JSX.Element {
  const { flow } = props;
  const s = useStore(flow);
  React.useEffect(() => {
    if (s.configureRequested && s.connection) props.onConfigure(s.connection.id);
  }, [s.configureRequested]);
  const doneRef = React.useRef<HTMLHeadingElement>(null);
  React.useEffect(() => {
    if (s.step === 'established' || s.step === 'awaiting-initiator') doneRef.current?.focus();
  }, [s.step]);

  const submit = (e: React.FormEvent) => {
    e.preventDefault();
    void flow.next();
  };

  if (s.step === 'established' || s.step === 'awaiting-initiator') {
    return (
      <Card className="exalate-card" titleProps={{ text: 'Accept invitation', ariaLevel: 1 }}>
        <div className="exalate-form">
          {s.step === 'established' ? (
            <>
              <h2 tabIndex={-1} ref={doneRef} className="exalate-success">
                {CONGRATULATIONS}
              </h2>
              <p>
                <strong>{s.connection?.name}</strong> is Active. Set up what it syncs: the rules for each direction and the triggers that pick work items.
              </p>
              <ButtonGroup className="exalate-actions">
                <Button text="Configure sync" primary onClick={() => flow.configureSync()} />
                <Button text="Back to connections" onClick={props.onClose} />
              </ButtonGroup>
            </>
          ) : (
            <>
              <h2 tabIndex={-1} ref={doneRef}>
                Invitation accepted
              </h2>
              <p>The initiating node is private, so it completes the connection the next time it checks in (within a minute while it runs). The connection shows as Pending until then.</p>
              <ButtonGroup className="exalate-actions">
                <Button text="Back to connections" primary onClick={props.onClose} />
              </ButtonGroup>
            </>
          )}
        </div>
      </Card>
    );
  }

  const stepIndex = ACCEPT_STEPS.indexOf(s.step);
  return (
    <Card className="exalate-card" titleProps={{ text: 'Accept invitation', ariaLevel: 1 }}>
      <form onSubmit={submit} className="exalate-form" aria-busy={s.busy} noValidate>
        <StepHeading index={stepIndex} count={ACCEPT_STEPS.length - 1} title={STEP_TITLES[s.step]} />
        <Banner error={s.banner} />

        {s.step === 'code' && (
          <Field
            id="invitation-code"
            label="Invitation code"
            value={s.code}
            error={s.errors.code}
            onChange={(v) => flow.setCode(v)}
            multiline
            monospace
            hint="Paste the code the partner's admin sent you."
            autoFocus
          />
        )}

        {(s.step === 'preview' || s.step === 'confirm') && s.preview && (
          <dl className="exalate-summary" data-testid="invitation-preview">
            <dt>Connection</dt>
            <dd>{s.step === 'confirm' && s.preview.nameTaken ? s.name : s.preview.connectionName}</dd>
            {s.preview.description ? (
              <>
                <dt>Description</dt>
                <dd>{s.preview.description}</dd>
              </>
            ) : null}
            <dt>From</dt>
            <dd>
              {s.preview.remoteShortName}: {NODE_TYPE_LABELS[s.preview.initiator.nodeType]} at {s.preview.initiator.trackerUrl}
              {s.preview.initiator.private ? ' (private)' : ''}
            </dd>
            <dt>This side</dt>
            <dd>{s.preview.localShortName}</dd>
            <dt>Mode</dt>
            <dd>{MODE_LABELS[s.preview.mode]}</dd>
            {s.step === 'confirm' ? (
              <>
                <dt>Project for incoming sync</dt>
                <dd>{s.projects?.find((p) => p.key === s.project)?.name ?? s.project}</dd>
              </>
            ) : (
              <>
                <dt>Expires</dt>
                <dd>{new Date(s.preview.expiresAt).toLocaleString()}</dd>
              </>
            )}
          </dl>
        )}
        {s.step === 'preview' && s.preview?.nameTaken ? (
          <Field id="connection-name" label="Connection name" value={s.name} error={s.errors.name} onChange={(v) => flow.setName(v)} hint="A connection with the invitation's name exists here already: choose another name." required autoFocus />
        ) : null}

        {s.step === 'project' && <ProjectPicker projects={s.projects} value={s.project} error={s.errors.project} loading={s.busy} onChange={(key) => flow.setProject(key)} />}

        <ButtonGroup className="exalate-actions">
          <Button text="Back" disabled={!flow.canGoBack()} onClick={() => flow.back()} />
          <SubmitButton text={s.step === 'confirm' ? 'Confirm' : 'Next'} onSubmit={() => void flow.next()} disabled={s.busy} />
          <Button text="Cancel" subtle onClick={props.onClose} disabled={s.busy} />
          {s.busy ? <Spinner size={SpinnerSize.small} ariaLabel="Working" /> : null}
        </ButtonGroup>
      </form>
    </Card>
  );
}
