// The few building blocks every screen of the Jira page uses, made of Atlaskit components.
import { useEffect, useId, useRef, type ReactNode } from 'react';
import Button from '@atlaskit/button/new';
import { ErrorMessage, HelperMessage, Label, RequiredAsterisk } from '@atlaskit/form';
import Modal, { ModalBody, ModalFooter, ModalHeader, ModalTitle, ModalTransition, CloseButton } from '@atlaskit/modal-dialog';
import SectionMessage from '@atlaskit/section-message';
import Select from '@atlaskit/select';
import Spinner from '@atlaskit/spinner';
import TextArea from '@atlaskit/textarea';
import Textfield from '@atlaskit/textfield';
import type { Project } from '@exalate/contract';
import { GUIDE, type ClientError, type PendingConfirmation } from '@exalate/wizard-core';

/** A failure that is not about one field, with its stable code for support. */
export function Banner(props: { error: ClientError | null }) {
  if (!props.error) return null;
  return (
    <div role="alert" className="exalate-banner">
      <SectionMessage appearance="error">
        <p>
          {props.error.message} <span className="exalate-code">({props.error.code})</span>
        </p>
      </SectionMessage>
    </div>
  );
}

export function Notice(props: { text: string | null }) {
  // Always rendered, so screen readers announce the text when it appears.
  return (
    <div role="status" aria-live="polite" className="exalate-notice">
      {props.text ? (
        <SectionMessage appearance="success">
          <p>{props.text}</p>
        </SectionMessage>
      ) : null}
    </div>
  );
}

/** A labelled text input with its hint or error under it, tied together for assistive technology. */
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
  password?: boolean;
  onBlur?: () => void;
}) {
  const messageId = `${props.id}-message`;
  const common = {
    id: props.id,
    name: props.id,
    value: props.value,
    isInvalid: !!props.error,
    isRequired: !!props.required,
    placeholder: props.placeholder ?? '',
    autoFocus: !!props.autoFocus,
    'aria-describedby': props.error || props.hint ? messageId : undefined,
    onBlur: props.onBlur,
  };
  return (
    <div className={props.monospace ? 'exalate-field exalate-mono' : 'exalate-field'}>
      <Label htmlFor={props.id}>
        {props.label}
        {props.required ? <RequiredAsterisk /> : null}
      </Label>
      {props.multiline ? (
        <TextArea {...common} minimumRows={4} resize="vertical" onChange={(e) => props.onChange(e.currentTarget.value)} />
      ) : (
        <Textfield
          {...common}
          type={props.password ? 'password' : 'text'}
          autoComplete={props.password ? 'new-password' : 'off'}
          onChange={(e) => props.onChange(e.currentTarget.value)}
        />
      )}
      <div id={messageId}>{props.error ? <ErrorMessage>{props.error}</ErrorMessage> : props.hint ? <HelperMessage>{props.hint}</HelperMessage> : null}</div>
    </div>
  );
}

/** "Step 2 of 3: Connection information", focused when the step changes. */
export function StepHeading(props: { index: number; count: number; title: string }) {
  const ref = useRef<HTMLHeadingElement>(null);
  useEffect(() => ref.current?.focus(), [props.title]);
  return (
    <h2 tabIndex={-1} ref={ref} className="exalate-step">
      <span className="exalate-step-count">
        Step {props.index + 1} of {props.count}:
      </span>{' '}
      {props.title}
    </h2>
  );
}

export function Working(props: { label: string; size?: 'small' | 'medium' }) {
  return (
    <span className="exalate-working" role="status">
      <Spinner size={props.size ?? 'small'} label={props.label} />
      {props.size === 'medium' ? <span>{props.label}</span> : null}
    </span>
  );
}

type Option = { label: string; value: string };

/** A choice from a list, labelled, with its error under it. */
export function Choice(props: {
  id: string;
  label: string;
  options: Option[];
  value: string;
  onChange: (value: string) => void;
  error?: string | undefined;
  placeholder?: string;
  required?: boolean;
}) {
  const selected = props.options.find((o) => o.value === props.value) ?? null;
  const messageId = `${props.id}-message`;
  return (
    <div className="exalate-field">
      <Label htmlFor={props.id}>
        {props.label}
        {props.required ? <RequiredAsterisk /> : null}
      </Label>
      <Select<Option>
        inputId={props.id}
        options={props.options}
        value={selected}
        onChange={(o) => o && props.onChange(o.value)}
        placeholder={props.placeholder ?? 'Choose…'}
        isInvalid={!!props.error}
        aria-describedby={props.error ? messageId : undefined}
        classNamePrefix="exalate-select"
        // Fixed, so the menu shows above a dialog's footer instead of under it.
        menuPosition="fixed"
      />
      <div id={messageId}>{props.error ? <ErrorMessage>{props.error}</ErrorMessage> : null}</div>
    </div>
  );
}

/** The project for incoming sync, picked from Jira's projects (loading while they come). */
export function ProjectPicker(props: {
  projects: Project[] | null;
  value: string;
  label: string;
  error?: string | undefined;
  loading: boolean;
  onChange: (key: string) => void;
}) {
  if (!props.projects) return props.loading ? <Working label="Loading Jira's projects…" size="medium" /> : null;
  return (
    <Choice
      id="project"
      label={props.label}
      options={props.projects.map((p) => ({ label: `${p.name} (${p.key})`, value: p.key }))}
      value={props.value}
      onChange={props.onChange}
      error={props.error}
      placeholder={GUIDE.selectProject}
      required
    />
  );
}

/** A wizard as the guides show it: a dialog with its title and ×; its body is a form, so Enter submits. */
export function WizardDialog(props: { title: string; onClose: () => void; onSubmit?: () => void; busy?: boolean; children: ReactNode; footer: ReactNode }) {
  const titleId = useId();
  return (
    <ModalTransition>
      <Modal
        onClose={props.onClose}
        width="large"
        shouldCloseOnOverlayClick={false}
        shouldCloseOnEscapePress={false}
        label={props.title}
        testId="exalate-dialog"
      >
        <form
          className="exalate-dialog-form"
          aria-busy={!!props.busy}
          aria-labelledby={titleId}
          noValidate
          onSubmit={(e) => {
            e.preventDefault();
            props.onSubmit?.();
          }}
        >
          <ModalHeader>
            <ModalTitle>
              <span id={titleId}>{props.title}</span>
            </ModalTitle>
            <CloseButton onClick={props.onClose} />
          </ModalHeader>
          <ModalBody>
            <div className="exalate-form">{props.children}</div>
          </ModalBody>
          <ModalFooter>{props.footer}</ModalFooter>
        </form>
      </Modal>
    </ModalTransition>
  );
}

/** The yes-or-no a destructive action asks first (instead of the browser's confirm()). */
export function ConfirmDialog(props: { confirmation: PendingConfirmation | null; onConfirm: () => void; onCancel: () => void }) {
  const c = props.confirmation;
  return (
    <ModalTransition>
      {c ? (
        <Modal onClose={props.onCancel} label={c.title} width="small">
          <ModalHeader>
            <ModalTitle appearance="danger">{c.title}</ModalTitle>
          </ModalHeader>
          <ModalBody>
            <p>{c.message}</p>
          </ModalBody>
          <ModalFooter>
            <Button appearance="subtle" onClick={props.onCancel}>
              Cancel
            </Button>
            <Button appearance="danger" onClick={props.onConfirm} autoFocus>
              {c.confirmLabel}
            </Button>
          </ModalFooter>
        </Modal>
      ) : null}
    </ModalTransition>
  );
}
