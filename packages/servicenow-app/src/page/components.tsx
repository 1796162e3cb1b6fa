// The building blocks of the ServiceNow page, drawn the way Next Experience draws its own forms and
// lists (servicenow-page.css): buttons, fields with their messages, choice lists, toggles, radios,
// modals, alerts, list tables and status pills. Plain elements, so the page's markup is the
// accessible one a browser knows, and no second UI kit travels with the bundle.
import { useEffect, useId, useRef, type ButtonHTMLAttributes, type ReactNode } from 'react';
import type { Project } from '@exalate/contract';
import { GUIDE, type ClientError, type PendingConfirmation } from '@exalate/wizard-core';

type Appearance = 'primary' | 'secondary' | 'tertiary' | 'danger';

export function Button(props: ButtonHTMLAttributes<HTMLButtonElement> & { appearance?: Appearance }) {
  const { appearance = 'secondary', className, type, ...rest } = props;
  return <button {...rest} type={type ?? 'button'} className={`now-button now-button--${appearance}${className ? ` ${className}` : ''}`} />;
}

/** A failure that is not about one field, with its stable code for support. */
export function Banner(props: { error: ClientError | null }) {
  if (!props.error) return null;
  return (
    <div role="alert" className="now-alert now-alert--critical">
      <span className="now-alert-icon" aria-hidden="true">
        !
      </span>
      <p>
        {props.error.message} <span className="exalate-code">({props.error.code})</span>
      </p>
    </div>
  );
}

export function Notice(props: { text: string | null }) {
  // Always rendered, so screen readers announce the text when it appears.
  return (
    <div role="status" aria-live="polite" className="exalate-notice">
      {props.text ? (
        <div className="now-alert now-alert--positive">
          <span className="now-alert-icon" aria-hidden="true">
            ✓
          </span>
          <p>{props.text}</p>
        </div>
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
    required: !!props.required,
    placeholder: props.placeholder ?? '',
    autoFocus: !!props.autoFocus,
    'aria-invalid': !!props.error,
    'aria-describedby': props.error || props.hint ? messageId : undefined,
    onBlur: props.onBlur,
    className: `now-input${props.error ? ' now-input--invalid' : ''}${props.monospace ? ' exalate-mono' : ''}`,
  };
  return (
    <div className="now-field">
      <Label htmlFor={props.id} required={props.required}>
        {props.label}
      </Label>
      {props.multiline ? (
        <textarea {...common} rows={4} onChange={(e) => props.onChange(e.currentTarget.value)} />
      ) : (
        <input
          {...common}
          type={props.password ? 'password' : 'text'}
          autoComplete={props.password ? 'new-password' : 'off'}
          onChange={(e) => props.onChange(e.currentTarget.value)}
        />
      )}
      <FieldMessage id={messageId} error={props.error} hint={props.hint} />
    </div>
  );
}

function Label(props: { htmlFor: string; required?: boolean | undefined; children: ReactNode }) {
  return (
    // The required mark is drawn by CSS, before the label as ServiceNow's forms put it, so the label's text stays its name.
    <label htmlFor={props.htmlFor} className={props.required ? 'now-label now-label--required' : 'now-label'}>
      {props.children}
    </label>
  );
}

export function FieldMessage(props: { id?: string; error?: string | undefined; hint?: string | undefined }) {
  return (
    <div id={props.id}>
      {props.error ? <p className="now-field-error">{props.error}</p> : props.hint ? <p className="now-field-hint">{props.hint}</p> : null}
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
    <span className="exalate-working" role="status" aria-label={props.label}>
      <span className={`now-loader now-loader--${props.size ?? 'small'}`} aria-hidden="true" />
      {props.size === 'medium' ? <span>{props.label}</span> : null}
    </span>
  );
}

type Option = { label: string; value: string };

/** A choice list (ServiceNow's forms use the browser's own select), labelled, with its error under it. */
export function Choice(props: {
  id: string;
  label: string;
  options: Option[];
  value: string;
  onChange: (value: string) => void;
  error?: string | undefined;
  placeholder?: string;
  required?: boolean;
  hint?: string;
}) {
  const messageId = `${props.id}-message`;
  return (
    <div className="now-field">
      <Label htmlFor={props.id} required={props.required}>
        {props.label}
      </Label>
      <select
        id={props.id}
        className={`now-select${props.error ? ' now-input--invalid' : ''}`}
        value={props.value}
        aria-invalid={!!props.error}
        aria-describedby={props.error || props.hint ? messageId : undefined}
        onChange={(e) => props.onChange(e.currentTarget.value)}
      >
        {props.value === '' ? <option value="">{props.placeholder ?? '-- None --'}</option> : null}
        {props.options.map((o) => (
          <option key={o.value} value={o.value}>
            {o.label}
          </option>
        ))}
      </select>
      <FieldMessage id={messageId} error={props.error} hint={props.hint} />
    </div>
  );
}

/** The table for incoming records, picked from the instance's tables (loading while they come). */
export function TablePicker(props: {
  projects: Project[] | null;
  value: string;
  label: string;
  error?: string | undefined;
  loading: boolean;
  onChange: (key: string) => void;
  hint?: string;
}) {
  if (!props.projects) return props.loading ? <Working label="Loading the instance's tables…" size="medium" /> : null;
  return (
    <Choice
      id="project"
      label={props.label}
      options={props.projects.map((p) => ({ label: `${p.name} [${p.key}]`, value: p.key }))}
      value={props.value}
      onChange={props.onChange}
      error={props.error}
      placeholder={GUIDE.selectProject}
      required
      {...(props.hint ? { hint: props.hint } : {})}
    />
  );
}

export function Toggle(props: { id: string; checked: boolean; onChange: (checked: boolean) => void; label: string; disabled?: boolean }) {
  return (
    <label className="now-toggle" htmlFor={props.id}>
      <input
        id={props.id}
        type="checkbox"
        role="switch"
        checked={props.checked}
        disabled={!!props.disabled}
        onChange={(e) => props.onChange(e.currentTarget.checked)}
      />
      <span className="now-toggle-track" aria-hidden="true" />
      <span className="now-toggle-label">{props.label}</span>
    </label>
  );
}

export function Radio(props: { name: string; value: string; checked: boolean; disabled?: boolean; label: string; onChange: () => void }) {
  const id = useId();
  return (
    <div className={`now-radio${props.disabled ? ' now-radio--disabled' : ''}`}>
      <input id={id} type="radio" name={props.name} value={props.value} checked={props.checked} disabled={!!props.disabled} onChange={props.onChange} />
      <label htmlFor={id}>{props.label}</label>
    </div>
  );
}

/** A list as Next Experience shows records: a header row, then one row per record. */
export function ListTable(props: {
  label: string;
  head: Array<{ key: string; content: string; width?: number }>;
  rows: Array<{ key: string; testId?: string; cells: Array<{ key: string; content: ReactNode }> }>;
}) {
  return (
    <div className="now-list" role="region" aria-label={props.label}>
      <table>
        <thead>
          <tr>
            {props.head.map((h) => (
              <th key={h.key} scope="col" style={h.width ? { width: `${h.width}%` } : undefined}>
                {h.content}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {props.rows.map((r) => (
            <tr key={r.key} data-testid={r.testId}>
              {r.cells.map((c) => (
                <td key={c.key}>{c.content}</td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

export type PillTone = 'info' | 'positive' | 'low' | 'critical' | 'warning';

export function Pill(props: { tone: PillTone; children: ReactNode }) {
  return <span className={`now-pill now-pill--${props.tone}`}>{props.children}</span>;
}

function Modal(props: { title: string; titleTone?: 'critical'; size: 'md' | 'lg'; onClose?: () => void; children: ReactNode }) {
  const titleId = useId();
  const ref = useRef<HTMLDivElement>(null);
  useEffect(() => {
    // Focus moves into the dialog, and back where it was when the dialog closes.
    const before = document.activeElement as HTMLElement | null;
    if (!ref.current?.contains(document.activeElement)) ref.current?.focus();
    return () => before?.focus?.();
  }, []);
  return (
    <div className="now-modal-backdrop">
      <div
        className={`now-modal now-modal--${props.size}`}
        role="dialog"
        aria-modal="true"
        aria-labelledby={titleId}
        tabIndex={-1}
        ref={ref}
        data-testid="exalate-dialog"
      >
        <header className="now-modal-header">
          <h1 id={titleId} className={props.titleTone ? `now-modal-title now-modal-title--${props.titleTone}` : 'now-modal-title'}>
            {props.title}
          </h1>
          {props.onClose ? (
            <button type="button" className="now-modal-close" aria-label="Close" onClick={props.onClose}>
              ×
            </button>
          ) : null}
        </header>
        {props.children}
      </div>
    </div>
  );
}

/** A wizard as the guides show it: a modal with its title and ×; its body is a form, so Enter submits. */
export function WizardDialog(props: { title: string; onClose: () => void; onSubmit?: () => void; busy?: boolean; children: ReactNode; footer: ReactNode }) {
  return (
    <Modal title={props.title} size="lg" onClose={props.onClose}>
      <form
        className="exalate-dialog-form"
        aria-busy={!!props.busy}
        aria-label={props.title}
        noValidate
        onSubmit={(e) => {
          e.preventDefault();
          props.onSubmit?.();
        }}
      >
        <div className="now-modal-body">{props.children}</div>
        <footer className="now-modal-footer">{props.footer}</footer>
      </form>
    </Modal>
  );
}

/** The yes-or-no a destructive action asks first (instead of the browser's confirm()). */
export function ConfirmDialog(props: { confirmation: PendingConfirmation | null; onConfirm: () => void; onCancel: () => void }) {
  const c = props.confirmation;
  if (!c) return null;
  return (
    <Modal title={c.title} titleTone="critical" size="md" onClose={props.onCancel}>
      <div className="now-modal-body">
        <p>{c.message}</p>
      </div>
      <footer className="now-modal-footer">
        <Button appearance="tertiary" onClick={props.onCancel}>
          Cancel
        </Button>
        <Button appearance="danger" onClick={props.onConfirm} autoFocus>
          {c.confirmLabel}
        </Button>
      </footer>
    </Modal>
  );
}
