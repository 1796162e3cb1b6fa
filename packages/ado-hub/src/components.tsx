import * as React from 'react';
import { Button } from 'azure-devops-ui/Button';
import { ContentSize } from 'azure-devops-ui/Callout';
import { Dialog } from 'azure-devops-ui/Dialog';
import { Dropdown } from 'azure-devops-ui/Dropdown';
import { FormItem } from 'azure-devops-ui/FormItem';
import { MessageCard, MessageCardSeverity } from 'azure-devops-ui/MessageCard';
import { Spinner, SpinnerSize } from 'azure-devops-ui/Spinner';
import { TextField } from 'azure-devops-ui/TextField';
import { DropdownSelection } from 'azure-devops-ui/Utilities/DropdownSelection';
import type { Project } from '@exalate/contract';
import { GUIDE, type ClientError, type PendingConfirmation } from '@exalate/wizard-core';

/** A failure that is not about one field, with its stable code for support. */
export function Banner(props: { error: ClientError | null; severity?: MessageCardSeverity }): JSX.Element | null {
  if (!props.error) return null;
  return (
    <div role="alert" className="exalate-banner">
      <MessageCard severity={props.severity ?? MessageCardSeverity.Error}>
        <span>
          {props.error.message} <span className="exalate-code">({props.error.code})</span>
        </span>
      </MessageCard>
    </div>
  );
}

export function Notice(props: { text: string | null }): JSX.Element {
  // Always rendered, so screen readers announce the text when it appears.
  return (
    <div role="status" aria-live="polite" className="exalate-notice">
      {props.text ? <MessageCard severity={MessageCardSeverity.Info}>{props.text}</MessageCard> : null}
    </div>
  );
}

/** A labelled text input with its error under it, tied together for assistive technology. */
export function Field(props: {
  id: string;
  label: string;
  value: string;
  error?: string | undefined;
  onChange: (value: string) => void;
  multiline?: boolean;
  placeholder?: string;
  hint?: string;
  required?: boolean;
  autoFocus?: boolean;
  monospace?: boolean;
  onBlur?: () => void;
}): JSX.Element {
  // FormItem ties its label and message to the input (aria-labelledby / aria-describedby).
  return (
    <div className="exalate-field">
      <FormItem label={props.label} error={!!props.error} message={props.error ?? props.hint} required={props.required}>
        <TextField
          inputId={props.id}
          value={props.value}
          onChange={(_e, v) => props.onChange(v)}
          multiline={props.multiline}
          rows={props.multiline ? 4 : undefined}
          placeholder={props.placeholder}
          autoFocus={props.autoFocus}
          onBlur={props.onBlur}
          className={props.monospace ? 'exalate-mono' : undefined}
        />
      </FormItem>
    </div>
  );
}

/** "Step 2 of 5: Mode", read out when the step changes. */
export function StepHeading(props: { index: number; count: number; title: string }): JSX.Element {
  const ref = React.useRef<HTMLHeadingElement>(null);
  React.useEffect(() => {
    // Move focus to the new step so keyboard and screen-reader users start at its top.
    ref.current?.focus();
  }, [props.title]);
  return (
    <h2 tabIndex={-1} ref={ref} className="exalate-step">
      <span className="exalate-step-count">
        Step {props.index + 1} of {props.count}:
      </span>{' '}
      {props.title}
    </h2>
  );
}

/**
 * The form's submit button. azure-devops-ui's Button answers Enter and Space itself (it calls
 * onClick and cancels the key), so a plain submit button would never submit from the keyboard; this
 * one runs the submit from onClick, which mouse, keyboard and Enter in a text field all reach.
 */
export function SubmitButton(props: { text: string; onSubmit: () => void; disabled?: boolean; primary?: boolean }): JSX.Element {
  return (
    <Button
      text={props.text}
      primary={props.primary ?? true}
      type="submit"
      disabled={props.disabled}
      onClick={(e) => {
        e.preventDefault();
        props.onSubmit();
      }}
    />
  );
}

/** The project for incoming sync, picked from the organization's projects (loading while they come). */
export function ProjectPicker(props: {
  projects: Project[] | null;
  value: string;
  label: string;
  error?: string | undefined;
  loading: boolean;
  onChange: (key: string) => void;
}): JSX.Element {
  const selection = React.useMemo(() => new DropdownSelection(), []);
  React.useEffect(() => {
    // Show a project the flow chose itself (the only one there is, or the one picked before Back).
    const i = props.projects?.findIndex((p) => p.key === props.value) ?? -1;
    if (i >= 0) selection.select(i);
  }, [props.projects, props.value]);
  if (!props.projects) return props.loading ? <Spinner size={SpinnerSize.medium} label="Loading the organization's projects…" /> : <></>;
  return (
    <FormItem label={props.label} error={!!props.error} message={props.error} required>
      <Dropdown
        ariaLabel={props.label}
        placeholder={GUIDE.selectProject}
        items={props.projects.map((p) => ({ id: p.key, text: p.name }))}
        selection={selection}
        onSelect={(_e, item) => props.onChange(item.id)}
      />
    </FormItem>
  );
}

/** A wizard as the guides show it: a dialog with its title and ×. */
export function WizardDialog(props: { title: string; onClose: () => void; children: React.ReactNode }): JSX.Element {
  return (
    <Dialog
      titleProps={{ text: props.title }}
      onDismiss={props.onClose}
      showCloseButton
      modal
      escDismiss={false}
      lightDismiss={false}
      contentSize={ContentSize.Large}
      calloutContentClassName="exalate-dialog"
    >
      {props.children}
    </Dialog>
  );
}

/** The yes-or-no a destructive action asks first (instead of the browser's confirm()). */
export function ConfirmDialog(props: { confirmation: PendingConfirmation | null; onConfirm: () => void; onCancel: () => void }): JSX.Element | null {
  const c = props.confirmation;
  if (!c) return null;
  return (
    <Dialog
      titleProps={{ text: c.title }}
      onDismiss={props.onCancel}
      showCloseButton
      modal
      footerButtonProps={[
        { text: 'Cancel', onClick: props.onCancel },
        { text: c.confirmLabel, danger: true, onClick: props.onConfirm },
      ]}
    >
      <p>{c.message}</p>
    </Dialog>
  );
}
