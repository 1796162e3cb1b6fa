import * as React from 'react';
import { ButtonGroup } from 'azure-devops-ui/ButtonGroup';
import { Card } from 'azure-devops-ui/Card';
import { Spinner, SpinnerSize } from 'azure-devops-ui/Spinner';
import { NODE_TYPE_LABELS, type SettingsFlow } from '@exalate/wizard-core';
import { Banner, Field, Notice, SubmitButton } from '../components.js';
import { useStore } from '../use-store.js';

export function SettingsScreen(props: { flow: SettingsFlow; onSaved: () => void }): JSX.Element {
  const { flow } = props;
  const s = useStore(flow);
  const save = async () => {
    if (await flow.save()) props.onSaved();
  };
  return (
    <Card className="exalate-card" titleProps={{ text: 'General settings', ariaLevel: 1 }}>
      <form onSubmit={(e) => { e.preventDefault(); void save(); }} className="exalate-form" aria-busy={s.busy} noValidate>
        {s.loading ? <Spinner size={SpinnerSize.medium} label="Loading settings…" /> : null}
        <Banner error={s.banner} />
        {!s.saved && !s.loading ? <p>Exalate runs on a node next to this organization. Enter its URL to manage connections from here.</p> : null}
        <Field
          id="node-url"
          label="Exalate node URL"
          value={s.nodeUrl}
          error={s.error ?? undefined}
          onChange={(v) => flow.setNodeUrl(v)}
          placeholder="https://exalate.acme.com/nodes/ado"
          hint="The node checks your Azure DevOps sign-in on every call; it must be set up with this extension's key."
          required
          autoFocus
        />
        {s.node ? (
          <p className="exalate-hint">
            Connected to the {NODE_TYPE_LABELS[s.node.nodeType]} node for {s.node.trackerUrl} (Exalate {s.node.version}).
          </p>
        ) : null}
        <Notice text={s.notice} />
        <ButtonGroup className="exalate-actions">
          <SubmitButton text="Save" onSubmit={() => void save()} disabled={s.busy || s.loading} />
          {s.busy ? <Spinner size={SpinnerSize.small} ariaLabel="Checking the node" /> : null}
        </ButtonGroup>
      </form>
    </Card>
  );
}
