import * as React from 'react';
import { Button } from 'azure-devops-ui/Button';
import { ButtonGroup } from 'azure-devops-ui/ButtonGroup';
import { Card } from 'azure-devops-ui/Card';
import { FormItem } from 'azure-devops-ui/FormItem';
import { RadioButton, RadioButtonGroup } from 'azure-devops-ui/RadioButton';
import { Spinner, SpinnerSize } from 'azure-devops-ui/Spinner';
import { Toggle } from 'azure-devops-ui/Toggle';
import type { Mode } from '@exalate/contract';
import { INITIATE_STEPS, MODE_LABELS, NODE_TYPE_LABELS, type InitiateFlow } from '@exalate/wizard-core';
import { Banner, Field, Notice, ProjectPicker, StepHeading, SubmitButton } from '../components.js';
import { useStore } from '../use-store.js';

const STEP_TITLES = { destination: 'Destination', mode: 'Mode', details: 'Connection details', project: 'Project for incoming sync', invitation: 'Invitation code' } as const;

const MODE_HINTS: Record<Mode, string> = {
  BASIC: 'Fixed rules that sync summary, description, comments, labels and attachments.',
  VISUAL: 'Map fields in a table; the rules are generated from it.',
  SCRIPT: 'Write the outgoing and incoming sync rules yourself.',
};

export function InitiateScreen(props: { flow: InitiateFlow; onDone: () => void; onCancel: () => void }): JSX.Element {
  const { flow } = props;
  const s = useStore(flow);
  React.useEffect(() => {
    if (s.finished) props.onDone();
  }, [s.finished]);

  const submit = (e: React.FormEvent) => {
    e.preventDefault();
    void flow.next();
  };
  const stepIndex = INITIATE_STEPS.indexOf(s.step);

  return (
    <Card className="exalate-card" titleProps={{ text: 'Initiate connection', ariaLevel: 1 }}>
      <form onSubmit={submit} className="exalate-form" aria-busy={s.busy} noValidate>
        <StepHeading index={stepIndex} count={INITIATE_STEPS.length} title={STEP_TITLES[s.step]} />
        <Banner error={s.banner} />

        {s.step === 'destination' && (
          <>
            <Toggle
              text={'I don\'t have a URL'}
              checked={s.values.noUrl}
              onChange={(_e, checked) => flow.setField('noUrl', checked)}
              ariaLabel={'I don\'t have a URL (the partner is private and connects to this node)'}
            />
            {!s.values.noUrl ? (
              <Field
                id="destination-url"
                label="Destination URL"
                value={s.values.destinationUrl}
                error={s.errors.destinationUrl}
                onChange={(v) => flow.setField('destinationUrl', v)}
                placeholder="https://exalate.partner.com/nodes/jira"
                hint="The partner's Exalate node. It is checked before you go on."
                autoFocus
              />
            ) : (
              <p className="exalate-hint">The partner does not need to be reachable: it connects to this node when it accepts the invitation.</p>
            )}
            {s.errors.destinationUrl && s.values.noUrl ? <p className="exalate-error" role="alert">{s.errors.destinationUrl}</p> : null}
          </>
        )}

        {s.step === 'mode' && (
          <>
            {s.destination ? (
              <p className="exalate-hint" data-testid="destination-found">
                Found {NODE_TYPE_LABELS[s.destination.nodeType]} at {s.destination.trackerUrl}
                {s.destination.pollOnly ? ' (private: it will call this node)' : ''}. It supports {s.modeOptions.map((m) => MODE_LABELS[m]).join(', ')}.
              </p>
            ) : null}
            <FormItem error={!!s.errors.mode} message={s.errors.mode}>
              <RadioButtonGroup selectedButtonId={s.values.mode ?? undefined} onSelect={(id) => flow.setField('mode', id as Mode)} text="Mode">
                {s.modeOptions.map((m) => (
                  <RadioButton key={m} id={m} text={`${MODE_LABELS[m]}: ${MODE_HINTS[m]}`} />
                ))}
              </RadioButtonGroup>
            </FormItem>
          </>
        )}

        {s.step === 'details' && (
          <>
            <Field id="local-short-name" label="Local short name" value={s.values.localShortName} error={s.errors.localShortName} onChange={(v) => flow.setField('localShortName', v)} hint="How this side is named in the connection, e.g. AcmeDevOps." autoFocus required />
            <Field id="remote-short-name" label="Remote short name" value={s.values.remoteShortName} error={s.errors.remoteShortName} onChange={(v) => flow.setField('remoteShortName', v)} hint="How the partner's side is named, e.g. PartnerJira." required />
            <Field id="connection-name" label="Connection name" value={s.values.name} error={s.errors.name} onChange={(v) => flow.setField('name', v)} hint="Made from the short names unless you change it." required />
            <Field id="description" label="Description" value={s.values.description} error={s.errors.description} onChange={(v) => flow.setField('description', v)} multiline />
          </>
        )}

        {s.step === 'project' && <ProjectPicker projects={s.projects} value={s.values.project} error={s.errors.project} loading={s.busy} onChange={(key) => flow.setField('project', key)} />}

        {s.step === 'invitation' && s.result && (
          <>
            <p>
              The connection <strong>{s.result.connection.name}</strong> is Pending. Send this invitation code to the partner&apos;s admin; they paste it under{' '}
              <em>Accept invitation</em>. It works once and expires on {new Date(s.result.connection.invitationExpiresAt ?? '').toLocaleString()}.
            </p>
            <label htmlFor="invitation-code" className="exalate-label">
              Invitation code
            </label>
            <textarea id="invitation-code" className="exalate-code-box" readOnly value={s.result.invitationCode} rows={5} onFocus={(e) => e.currentTarget.select()} />
            <Notice text={s.copied ? 'Invitation code copied' : null} />
          </>
        )}

        <ButtonGroup className="exalate-actions">
          {s.step === 'invitation' ? (
            <>
              <Button text="Copy invitation code" iconProps={{ iconName: 'Copy' }} onClick={() => void flow.copyInvitationCode()} />
              <SubmitButton text="Done" onSubmit={() => void flow.next()} />
            </>
          ) : (
            <>
              <Button text="Back" disabled={!flow.canGoBack()} onClick={() => flow.back()} />
              <SubmitButton text={s.step === 'project' ? 'Initiate' : 'Next'} onSubmit={() => void flow.next()} disabled={s.busy} />
              <Button text="Cancel" subtle onClick={props.onCancel} disabled={s.busy} />
            </>
          )}
          {s.busy ? <Spinner size={SpinnerSize.small} ariaLabel="Working" /> : null}
        </ButtonGroup>
      </form>
    </Card>
  );
}
