import { MODES, defaultConnectionName, type InitiateConnectionResponse, type Mode, type NodeInfo, type ProbeDestinationResponse, type Project } from '@exalate/contract';
import type { AdminApi, ClientError } from './api-client.js';
import { Store } from './store.js';
import { destinationUrlError, fieldError, rules } from './validation.js';

/**
 * Initiate connection, step by step:
 *   destination → mode → details → project → invitation
 * "destination": the partner node URL (checked live against its node-info) or "I don't have a URL".
 * "invitation": the code to copy, with Done. Back is allowed everywhere before the code exists.
 */
export const INITIATE_STEPS = ['destination', 'mode', 'details', 'project', 'invitation'] as const;
export type InitiateStep = (typeof INITIATE_STEPS)[number];

export interface InitiateValues {
  destinationUrl: string;
  noUrl: boolean;
  mode: Mode | null;
  localShortName: string;
  remoteShortName: string;
  name: string;
  description: string;
  project: string;
}

export type InitiateField = keyof InitiateValues;

export interface InitiateState {
  step: InitiateStep;
  values: InitiateValues;
  /** Field messages shown under the inputs. */
  errors: Partial<Record<InitiateField, string>>;
  /** A failure that is not about one field (e.g. the node is unreachable), with its stable code. */
  banner: ClientError | null;
  busy: boolean;
  /** What the destination node said about itself, once checked. */
  destination: ProbeDestinationResponse | null;
  /** Modes the admin can choose: both nodes' when the destination is known, else this node's. */
  modeOptions: Mode[];
  projects: Project[] | null;
  result: InitiateConnectionResponse | null;
  copied: boolean;
  finished: boolean;
}

export interface Clipboard {
  writeText(text: string): Promise<void>;
}

export class InitiateFlow extends Store<InitiateState> {
  /** Whether the admin typed a connection name; until then it follows the short names. */
  private nameEdited = false;

  constructor(
    private readonly api: AdminApi,
    private readonly local: Pick<NodeInfo, 'modes' | 'pollOnly'>,
    private readonly clipboard?: Clipboard,
  ) {
    super({
      step: 'destination',
      values: { destinationUrl: '', noUrl: false, mode: null, localShortName: '', remoteShortName: '', name: '', description: '', project: '' },
      errors: {},
      banner: null,
      busy: false,
      destination: null,
      modeOptions: MODES.filter((m) => local.modes.includes(m)),
      projects: null,
      result: null,
      copied: false,
      finished: false,
    });
  }

  get stepIndex(): number {
    return INITIATE_STEPS.indexOf(this.getState().step);
  }

  canGoBack(): boolean {
    const s = this.getState();
    return !s.busy && s.step !== 'destination' && s.step !== 'invitation';
  }

  setField<F extends InitiateField>(field: F, value: InitiateValues[F]): void {
    this.setState((s) => {
      const values = { ...s.values, [field]: value };
      if (field === 'name') this.nameEdited = String(value).trim() !== '';
      if ((field === 'localShortName' || field === 'remoteShortName') && !this.nameEdited) {
        values.name = values.localShortName && values.remoteShortName ? defaultConnectionName(values.localShortName, values.remoteShortName) : '';
      }
      const errors = { ...s.errors };
      delete errors[field];
      if (field === 'noUrl' || field === 'destinationUrl') {
        delete errors.destinationUrl;
        return { values, errors, banner: null, destination: null };
      }
      return { values, errors, banner: null };
    });
  }

  back(): void {
    if (!this.canGoBack()) return;
    this.setState((s) => ({ step: INITIATE_STEPS[INITIATE_STEPS.indexOf(s.step) - 1]!, errors: {}, banner: null }));
  }

  /** Validates the current step (asking the backend where needed) and moves on. */
  async next(): Promise<void> {
    const s = this.getState();
    if (s.busy) return;
    switch (s.step) {
      case 'destination':
        return this.leaveDestination();
      case 'mode':
        if (!s.values.mode || !s.modeOptions.includes(s.values.mode)) {
          this.setState({ errors: { mode: 'Choose Basic, Visual or Script mode.' } });
          return;
        }
        this.setState({ step: 'details', errors: {} });
        return;
      case 'details': {
        const errors = this.check(['localShortName', 'remoteShortName', 'name', 'description']);
        if (Object.keys(errors).length) return this.setState({ errors });
        this.setState({ step: 'project', errors: {} });
        await this.loadProjects();
        return;
      }
      case 'project': {
        const errors = this.check(['project']);
        if (Object.keys(errors).length) return this.setState({ errors });
        return this.submit();
      }
      case 'invitation':
        this.setState({ finished: true });
        return;
    }
  }

  async copyInvitationCode(): Promise<boolean> {
    const code = this.getState().result?.invitationCode;
    if (!code || !this.clipboard) return false;
    try {
      await this.clipboard.writeText(code);
      this.setState({ copied: true });
      return true;
    } catch {
      this.setState({ banner: { code: 'VALIDATION_FAILED', message: 'Copying to the clipboard was not allowed by the browser. Select the code and copy it by hand.' } });
      return false;
    }
  }

  private async leaveDestination(): Promise<void> {
    const { values } = this.getState();
    if (values.noUrl) {
      if (this.local.pollOnly) {
        this.setState({
          errors: { destinationUrl: 'This node is private, so the partner must be reachable: enter its URL. Two private nodes cannot connect.' },
        });
        return;
      }
      this.setState({ step: 'mode', destination: null, modeOptions: MODES.filter((m) => this.local.modes.includes(m)), errors: {}, banner: null });
      this.preselectMode();
      return;
    }
    const problem = destinationUrlError(values.destinationUrl);
    if (problem) return this.setState({ errors: { destinationUrl: problem } });
    this.setState({ busy: true, banner: null, errors: {} });
    const probe = await this.api.probeDestination(values.destinationUrl);
    if (!probe.ok) {
      this.setState({ busy: false, errors: probe.error.fields?.['destinationUrl'] ? { destinationUrl: probe.error.message } : {}, banner: probe.error });
      return;
    }
    this.setState((s) => ({
      busy: false,
      step: 'mode',
      destination: probe.value,
      modeOptions: probe.value.modes,
      values: { ...s.values, destinationUrl: probe.value.url },
    }));
    this.preselectMode();
  }

  private preselectMode(): void {
    this.setState((s) => ({ values: { ...s.values, mode: s.values.mode && s.modeOptions.includes(s.values.mode) ? s.values.mode : (s.modeOptions.includes('SCRIPT') ? 'SCRIPT' : (s.modeOptions[0] ?? null)) } }));
  }

  private async loadProjects(): Promise<void> {
    if (this.getState().projects) return;
    this.setState({ busy: true });
    const projects = await this.api.listProjects();
    if (!projects.ok) return this.setState({ busy: false, banner: projects.error });
    this.setState((s) => ({
      busy: false,
      projects: projects.value.projects,
      values: { ...s.values, project: s.values.project || (projects.value.projects.length === 1 ? projects.value.projects[0]!.key : '') },
    }));
  }

  private async submit(): Promise<void> {
    const { values } = this.getState();
    this.setState({ busy: true, banner: null });
    const result = await this.api.initiateConnection({
      destinationUrl: values.noUrl ? null : values.destinationUrl,
      mode: values.mode!,
      localShortName: values.localShortName,
      remoteShortName: values.remoteShortName,
      name: values.name.trim() || undefined,
      description: values.description,
      project: values.project,
    });
    if (!result.ok) {
      // Send the admin back to the step where the offending field lives.
      const fields = result.error.fields ?? {};
      const step: InitiateStep = 'destinationUrl' in fields ? 'destination' : 'mode' in fields ? 'mode' : ['localShortName', 'remoteShortName', 'name', 'description'].some((f) => f in fields) ? 'details' : 'project';
      this.setState({ busy: false, step, errors: fields as InitiateState['errors'], banner: result.error });
      return;
    }
    this.setState({ busy: false, step: 'invitation', result: result.value, errors: {} });
  }

  private check(fields: Array<'localShortName' | 'remoteShortName' | 'name' | 'description' | 'project'>): InitiateState['errors'] {
    const { values } = this.getState();
    const errors: InitiateState['errors'] = {};
    for (const f of fields) {
      const message = fieldError(rules[f], values[f]);
      if (message) errors[f] = message;
    }
    return errors;
  }
}
