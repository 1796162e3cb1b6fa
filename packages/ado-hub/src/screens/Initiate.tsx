import * as React from 'react';
import { Button } from 'azure-devops-ui/Button';
import { ButtonGroup } from 'azure-devops-ui/ButtonGroup';
import { FormItem } from 'azure-devops-ui/FormItem';
import { RadioButton, RadioButtonGroup } from 'azure-devops-ui/RadioButton';
import { Spinner, SpinnerSize } from 'azure-devops-ui/Spinner';
import { Toggle } from 'azure-devops-ui/Toggle';
import type { Mode } from '@exalate/contract';
import { GUIDE, INITIATE_STEPS, NODE_TYPE_LABELS, formatTime, type InitiateFlow } from '@exalate/wizard-core';
import { Banner, Field, Notice, ProjectPicker, StepHeading, SubmitButton, WizardDialog } from '../components.js';
import { useStore } from '../use-store.js';

/** Initiate connection: the wizard core's InitiateFlow, in a dialog over the Connections list. */
export function InitiateDialog(props: { flow: InitiateFlow; onClose: () => void }): JSX.Element {
  const { flow } = props;
  const s = useStore(flow);
  const submit = (e: React.FormEvent) => {
    e.preventDefault();
    void flow.next();
  };
  const texts = s.step === 'invitation' ? flow.invitationTexts : null;

  return (
    <WizardDialog title={GUIDE.initiateConnection} onClose={props.onClose}>
      <form onSubmit={submit} className="exalate-form" aria-busy={s.busy} noValidate>
        <StepHeading index={flow.stepIndex} count={INITIATE_STEPS.length} title={flow.stepTitle} />
        <Banner error={s.banner} />

        {s.step === 'destination' && (
          <>
            <div className="exalate-destination">
              {!s.values.noUrl ? (
                <Field
                  id="destination-url"
                  label={GUIDE.destinationUrl}
                  value={s.values.destinationUrl}
                  error={s.errors.destinationUrl}
                  onChange={(v) => flow.setField('destinationUrl', v)}
                  onBlur={() => void flow.checkDestination()}
                  placeholder="https://exalate.partner.com/nodes/jira"
                  hint="The partner's Exalate URL (from its General settings), or the address of their tracker where the Exalate app is installed."
                  autoFocus
                />
              ) : (
                <p className="exalate-hint">The partner does not need to be reachable: it connects to this node when it accepts the invitation.</p>
              )}
              <Toggle
                text={GUIDE.noUrl}
                checked={s.values.noUrl}
                onChange={(_e, checked) => flow.setField('noUrl', checked)}
                ariaLabel={`${GUIDE.noUrl} (the partner is private and connects to this node)`}
              />
            </div>
            {s.errors.destinationUrl && s.values.noUrl ? (
              <p className="exalate-error" role="alert">
                {s.errors.destinationUrl}
              </p>
            ) : null}
            {s.destination ? (
              <p className="exalate-hint" data-testid="destination-found">
                <span aria-hidden="true">✓ </span>Found {NODE_TYPE_LABELS[s.destination.nodeType]} at {s.destination.trackerUrl}
                {s.destination.pollOnly ? ' (private: it will call this node)' : ''}.
              </p>
            ) : null}
            <FormItem label={GUIDE.configurationType} error={!!s.errors.mode} message={s.errors.mode}>
              <RadioButtonGroup selectedButtonId={s.values.mode ?? undefined} onSelect={(id) => flow.setField('mode', id as Mode)}>
                {flow.modeChoices.map((c) => (
                  <RadioButton key={c.mode} id={c.mode} disabled={!c.available} text={`${c.label}: ${c.available ? c.hint : c.reason}`} />
                ))}
              </RadioButtonGroup>
            </FormItem>
          </>
        )}

        {s.step === 'details' && (
          <>
            <Field
              id="local-short-name"
              label={GUIDE.localShortName}
              value={s.values.localShortName}
              error={s.errors.localShortName}
              onChange={(v) => flow.setField('localShortName', v)}
              hint="A short name for your instance, e.g. AcmeDevOps."
              autoFocus
              required
            />
            <Field
              id="remote-short-name"
              label={flow.remoteShortNameLabel}
              value={s.values.remoteShortName}
              error={s.errors.remoteShortName}
              onChange={(v) => flow.setField('remoteShortName', v)}
              hint="A short name for the destination instance, e.g. PartnerJira."
              required
            />
            <Field
              id="connection-name"
              label={GUIDE.connectionName}
              value={s.values.name}
              error={s.errors.name}
              onChange={(v) => flow.setField('name', v)}
              hint="Made from the short names unless you change it."
              required
            />
            <Field
              id="description"
              label={GUIDE.description}
              value={s.values.description}
              error={s.errors.description}
              onChange={(v) => flow.setField('description', v)}
              multiline
            />
          </>
        )}

        {s.step === 'project' && (
          <>
            <p>{GUIDE.projectIntro}</p>
            <ProjectPicker
              projects={s.projects}
              value={s.values.project}
              label={GUIDE.projectLabelInitiate}
              error={s.errors.project}
              loading={s.busy}
              onChange={(key) => flow.setField('project', key)}
            />
          </>
        )}

        {s.step === 'invitation' && s.result && texts && (
          <>
            <p>
              <strong>{texts.ensureInstalled}</strong>
            </p>
            <p>{texts.acceptOnOtherSide}</p>
            {texts.note ? <p className="exalate-hint">Note: {texts.note}</p> : null}
            <p className="exalate-hint">
              The connection <strong>{s.result.connection.name}</strong> is Pending until then. The code works once and expires on{' '}
              {formatTime(s.result.connection.invitationExpiresAt)}.
            </p>
            <label htmlFor="invitation-code" className="exalate-label">
              {GUIDE.useInvitationCode}
            </label>
            <textarea
              id="invitation-code"
              className="exalate-code-box"
              readOnly
              value={s.result.invitationCode}
              rows={5}
              onFocus={(e) => e.currentTarget.select()}
            />
            <Notice text={s.copied ? GUIDE.invitationCodeCopied : null} />
          </>
        )}

        <ButtonGroup className="exalate-actions">
          {s.step === 'invitation' ? (
            <>
              <Button text={GUIDE.copyInvitationCode} iconProps={{ iconName: 'Copy' }} onClick={() => void flow.copyInvitationCode()} />
              <SubmitButton text={GUIDE.done} onSubmit={() => void flow.next()} />
            </>
          ) : (
            <>
              {flow.stepIndex > 0 ? (
                <Button text={GUIDE.previous} iconProps={{ iconName: 'ChevronLeft' }} disabled={!flow.canGoBack()} onClick={() => flow.back()} />
              ) : null}
              <SubmitButton text={s.step === 'project' ? GUIDE.initiate : GUIDE.next} onSubmit={() => void flow.next()} disabled={s.busy} />
            </>
          )}
          {s.busy ? <Spinner size={SpinnerSize.small} ariaLabel="Working" /> : null}
        </ButtonGroup>
      </form>
    </WizardDialog>
  );
}
