import * as React from 'react';
import { ButtonGroup } from 'azure-devops-ui/ButtonGroup';
import { Card } from 'azure-devops-ui/Card';
import { FormItem } from 'azure-devops-ui/FormItem';
import { TextField } from 'azure-devops-ui/TextField';
import { Spinner, SpinnerSize } from 'azure-devops-ui/Spinner';
import { GUIDE, NODE_TYPE_LABELS, capitalize, credentialSourceText, type SettingsFlow, type TrackerWords } from '@exalate/wizard-core';
import { Banner, Field, Notice, SubmitButton } from '../components.js';
import { useStore } from '../use-store.js';

/** General settings: the node URL (saving stays here and says so) and the node's tracker credential. */
export function SettingsScreen(props: { flow: SettingsFlow; words: TrackerWords }): JSX.Element {
  const { flow, words } = props;
  const s = useStore(flow);
  const save = () => void flow.save();
  return (
    <Card className="exalate-card" titleProps={{ text: GUIDE.generalSettings, ariaLevel: 1 }}>
      <div className="exalate-form">
        {s.loading ? <Spinner size={SpinnerSize.medium} label="Loading settings…" /> : null}
        <Banner error={s.banner} />
        <Notice text={s.notice} />
        <form
          className="exalate-form"
          aria-busy={s.busy}
          noValidate
          onSubmit={(e) => {
            e.preventDefault();
            void save();
          }}
        >
          {!s.saved && !s.loading ? <p>Exalate runs on a node next to this organization. Enter its URL to manage connections from here.</p> : null}
          <Field
            id="node-url"
            label="Exalate node URL"
            value={s.nodeUrl}
            error={s.error ?? undefined}
            onChange={(v) => flow.setNodeUrl(v)}
            placeholder={words.nodeUrlExample}
            hint="The node checks your Azure DevOps sign-in on every call; it must be set up with this extension's key."
            required
            autoFocus
          />
          {s.node ? (
            <p className="exalate-hint">
              Connected to the {NODE_TYPE_LABELS[s.node.nodeType]} node for {s.node.trackerUrl} (Exalate {s.node.version}).
            </p>
          ) : null}
          <ButtonGroup className="exalate-actions">
            <SubmitButton text="Save" onSubmit={() => void save()} disabled={s.busy || s.loading} />
            {s.busy ? <Spinner size={SpinnerSize.small} ariaLabel="Checking the node" /> : null}
          </ButtonGroup>
        </form>
        {s.saved && s.nodeSettings ? (
          <form
            className="exalate-form exalate-section exalate-token-form"
            aria-labelledby="token-heading"
            noValidate
            onSubmit={(e) => {
              e.preventDefault();
              void flow.saveToken();
            }}
          >
            <h2 id="token-heading">{capitalize(words.credential)}</h2>
            <p className="exalate-hint" data-testid="token-source">
              {credentialSourceText(s.nodeSettings, words)}
            </p>
            {s.nodeSettings.tracker.credential.problem ? (
              <p className="exalate-error" role="alert">
                {s.nodeSettings.tracker.credential.problem}
              </p>
            ) : null}
            <div className="exalate-field">
              <FormItem
                label={`New ${words.credential}`}
                error={!!s.tokenError}
                message={s.tokenError ?? 'The node checks it with Azure DevOps before storing it.'}
              >
                <TextField inputId="node-token" inputType="password" value={s.token} onChange={(_e, v) => flow.setToken(v)} autoComplete={false} />
              </FormItem>
            </div>
            <ButtonGroup className="exalate-actions">
              <SubmitButton text="Save token" onSubmit={() => void flow.saveToken()} disabled={s.busy} />
            </ButtonGroup>
          </form>
        ) : null}
      </div>
    </Card>
  );
}
