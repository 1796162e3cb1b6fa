import Button from '@atlaskit/button/new';
import { ErrorMessage, Fieldset, Legend } from '@atlaskit/form';
import { Radio } from '@atlaskit/radio';
import Toggle from '@atlaskit/toggle';
import { GUIDE, INITIATE_STEPS, NODE_TYPE_LABELS, formatTime, type InitiateFlow } from '@exalate/wizard-core';
import { Banner, Field, Notice, ProjectPicker, StepHeading, WizardDialog, Working } from '../components.js';
import { useStore } from '../use-store.js';

/** Initiate connection: the wizard core's InitiateFlow, in a dialog over the Connections list. */
export function InitiateDialog(props: { flow: InitiateFlow; onClose: () => void }) {
  const { flow } = props;
  const s = useStore(flow);
  const texts = s.step === 'invitation' ? flow.invitationTexts : null;

  const footer =
    s.step === 'invitation' ? (
      <>
        <Button onClick={() => void flow.copyInvitationCode()}>{GUIDE.copyInvitationCode}</Button>
        <Button appearance="primary" type="submit">
          {GUIDE.done}
        </Button>
      </>
    ) : (
      <>
        {s.busy ? <Working label="Working" /> : null}
        {flow.stepIndex > 0 ? (
          <Button appearance="subtle" isDisabled={!flow.canGoBack()} onClick={() => flow.back()}>
            {GUIDE.previous}
          </Button>
        ) : null}
        <Button appearance="primary" type="submit" isDisabled={s.busy}>
          {s.step === 'project' ? GUIDE.initiate : GUIDE.next}
        </Button>
      </>
    );

  return (
    <WizardDialog title={GUIDE.initiateConnection} onClose={props.onClose} onSubmit={() => void flow.next()} busy={s.busy} footer={footer}>
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
                placeholder="https://exalate.partner.com/nodes/ado"
                hint="The partner's Exalate URL (from its General settings), or the address of their tracker where the Exalate app is installed."
                autoFocus
              />
            ) : (
              <p className="exalate-hint">The partner does not need to be reachable: it connects to this node when it accepts the invitation.</p>
            )}
            <div className="exalate-toggle">
              <Toggle
                id="no-url"
                isChecked={s.values.noUrl}
                onChange={(e) => flow.setField('noUrl', e.currentTarget.checked)}
                label={`${GUIDE.noUrl} (the partner is private and connects to this node)`}
              />
              <label htmlFor="no-url">{GUIDE.noUrl}</label>
            </div>
          </div>
          {s.errors.destinationUrl && s.values.noUrl ? <ErrorMessage>{s.errors.destinationUrl}</ErrorMessage> : null}
          {s.destination ? (
            <p className="exalate-hint" data-testid="destination-found">
              <span aria-hidden="true">✓ </span>Found {NODE_TYPE_LABELS[s.destination.nodeType]} at {s.destination.trackerUrl}
              {s.destination.pollOnly ? ' (private: it will call this node)' : ''}.
            </p>
          ) : null}
          <Fieldset legend={<Legend>{GUIDE.configurationType}</Legend>}>
            {flow.modeChoices.map((c) => (
              <Radio
                key={c.mode}
                name="mode"
                value={c.mode}
                isChecked={s.values.mode === c.mode}
                isDisabled={!c.available}
                label={`${c.label}: ${c.available ? c.hint : c.reason}`}
                onChange={() => flow.setField('mode', c.mode)}
              />
            ))}
          </Fieldset>
          {s.errors.mode ? <ErrorMessage>{s.errors.mode}</ErrorMessage> : null}
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
            hint="A short name for your instance, e.g. AcmeJira."
            autoFocus
            required
          />
          <Field
            id="remote-short-name"
            label={flow.remoteShortNameLabel}
            value={s.values.remoteShortName}
            error={s.errors.remoteShortName}
            onChange={(v) => flow.setField('remoteShortName', v)}
            hint="A short name for the destination instance, e.g. PartnerDevOps."
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
    </WizardDialog>
  );
}
