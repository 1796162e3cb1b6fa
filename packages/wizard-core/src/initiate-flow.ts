import {
  MODES,
  MODE_LABELS,
  defaultConnectionName,
  type InitiateConnectionResponse,
  type Mode,
  type NodeInfo,
  type ProbeDestinationResponse,
  type Project,
} from '@exalate/contract';
import type { AdminApi, ClientError } from './api-client.js';
import { Store } from './store.js';
import { destinationUrlError, fieldError, placeError, rules } from './validation.js';
import { GUIDE } from './words.js';

/**
 * Initiate connection, as the product guides have it, step by step:
 *   destination → details → project → invitation
 * "destination": the Destination instance URL (checked against the partner's node as soon as the
 *   admin leaves the field) or "I don't have a URL", and on the same screen the configuration type.
 * "details": Connection information. "project": the project for the incoming sync.
 * "invitation": the code to copy, with Done. Previous is allowed everywhere before the code exists.
 */
export const INITIATE_STEPS = ['destination', 'details', 'project', 'invitation'] as const;
export type InitiateStep = (typeof INITIATE_STEPS)[number];

export const INITIATE_STEP_TITLES: Record<InitiateStep, string> = {
  destination: GUIDE.destinationUrl,
  details: GUIDE.connectionInformation,
  project: GUIDE.projectHeading,
  invitation: GUIDE.useInvitationCode.replace(/:$/, ''),
};

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
  /** What the destination node said about itself, once checked (for the URL now in the field). */
  destination: ProbeDestinationResponse | null;
  /** Modes the admin can choose: both nodes' when the destination is known, else this node's. */
  modeOptions: Mode[];
  projects: Project[] | null;
  result: InitiateConnectionResponse | null;
  copied: boolean;
  finished: boolean;
}

/** One configuration type as the destination screen shows it: all three, the unavailable ones saying why. */
export interface ModeChoice {
  mode: Mode;
  label: string;
  hint: string;
  available: boolean;
  /** Why it cannot be chosen, when it cannot. */
  reason: string | null;
}

const MODE_HINTS: Record<Mode, string> = {
  BASIC: 'Syncs summary, description, comments, labels and attachments with the default rules.',
  VISUAL: 'Map the fields on both sides in one place; the rules are generated from the mapping.',
  SCRIPT: 'Write the outgoing and incoming sync rules yourself.',
};

export interface Clipboard {
  writeText(text: string): Promise<void>;
}

export interface InitiateOptions {
  clipboard?: Clipboard;
  /** Done was clicked on the invitation screen. */
  onFinished?: () => void;
  /** The project (table) preselected for incoming items (ServiceNow: `incident`). */
  project?: string;
}

export class InitiateFlow extends Store<InitiateState> {
  /** Whether the admin typed a connection name; until then it follows the short names. */
  private nameEdited = false;
  /** The question to the destination under way (leaving the field and clicking Next share it). */
  private probing: { url: string; answer: Promise<boolean> } | null = null;

  constructor(
    private readonly api: AdminApi,
    private readonly local: Pick<NodeInfo, 'modes' | 'pollOnly'>,
    private readonly options: InitiateOptions = {},
  ) {
    super({
      step: 'destination',
      values: {
        destinationUrl: '',
        noUrl: false,
        mode: null,
        localShortName: '',
        remoteShortName: '',
        name: '',
        description: '',
        project: options.project ?? '',
      },
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
    this.preselectMode();
  }

  get stepIndex(): number {
    return INITIATE_STEPS.indexOf(this.getState().step);
  }

  get stepTitle(): string {
    return INITIATE_STEP_TITLES[this.getState().step];
  }

  /** The label of the partner's short name: the guide calls a private partner the destination. */
  get remoteShortNameLabel(): string {
    return this.getState().values.noUrl ? GUIDE.destinationShortName : GUIDE.remoteShortName;
  }

  /** The three configuration types, each with whether it can be chosen here and why not. */
  get modeChoices(): ModeChoice[] {
    const s = this.getState();
    return MODES.map((mode) => {
      const here = this.local.modes.includes(mode);
      const there = s.modeOptions.includes(mode);
      const reason = !here ? 'This node does not offer it.' : !there && s.destination ? 'The destination node does not offer it.' : null;
      return { mode, label: MODE_LABELS[mode], hint: MODE_HINTS[mode], available: here && there, reason };
    });
  }

  /** What the invitation screen says about the other side (a private partner is "unknown"). */
  get invitationTexts(): { destination: string; ensureInstalled: string; acceptOnOtherSide: string; note: string | null } {
    const s = this.getState();
    const destination = s.values.noUrl || !s.destination ? GUIDE.unknownDestination : s.destination.trackerUrl;
    return {
      destination,
      ensureInstalled: GUIDE.ensureInstalled(destination),
      acceptOnOtherSide: GUIDE.acceptOnOtherSide(destination),
      note: s.values.noUrl ? GUIDE.publicPrivateNote : null,
    };
  }

  canGoBack(): boolean {
    const s = this.getState();
    return !s.busy && s.step !== 'destination' && s.step !== 'invitation';
  }

  setField<F extends InitiateField>(field: F, value: InitiateValues[F]): void {
    this.setState((s) => {
      const values = { ...s.values, [field]: value };
      const errors = { ...s.errors };
      delete errors[field];
      if (field === 'name') this.nameEdited = String(value).trim() !== '';
      if ((field === 'localShortName' || field === 'remoteShortName') && !this.nameEdited) {
        values.name = values.localShortName && values.remoteShortName ? defaultConnectionName(values.localShortName, values.remoteShortName) : '';
        // The name filled in for the admin answers "Connection name is required".
        if (values.name) delete errors.name;
      }
      if (field === 'noUrl' || field === 'destinationUrl') {
        delete errors.destinationUrl;
        delete errors.mode;
        // Another destination: what the last one offered no longer narrows the choice.
        return { values, errors, banner: null, destination: null, modeOptions: MODES.filter((m) => this.local.modes.includes(m)) };
      }
      return { values, errors, banner: null };
    });
    if (field === 'noUrl' || field === 'destinationUrl') this.preselectMode();
  }

  back(): void {
    if (!this.canGoBack()) return;
    this.setState((s) => ({ step: INITIATE_STEPS[INITIATE_STEPS.indexOf(s.step) - 1]!, errors: {}, banner: null }));
  }

  /**
   * Asks the destination node about itself (the view calls this when the admin leaves the URL
   * field): its modes narrow the configuration types. True when the destination is known.
   */
  checkDestination(): Promise<boolean> {
    const s = this.getState();
    if (s.values.noUrl || s.destination) return Promise.resolve(true);
    if (this.probing?.url === s.values.destinationUrl) return this.probing.answer;
    const answer = this.probe();
    this.probing = { url: s.values.destinationUrl, answer };
    void answer.finally(() => {
      if (this.probing?.answer === answer) this.probing = null;
    });
    return answer;
  }

  private async probe(): Promise<boolean> {
    const s = this.getState();
    const problem = destinationUrlError(s.values.destinationUrl);
    if (problem) {
      this.setState({ errors: { ...s.errors, destinationUrl: problem } });
      return false;
    }
    const asked = s.values.destinationUrl;
    this.setState({ busy: true, banner: null });
    const probe = await this.api.probeDestination(asked);
    // The admin typed another URL meanwhile: this answer is about the old one.
    if (this.getState().values.destinationUrl !== asked) {
      this.setState({ busy: false });
      return false;
    }
    if (!probe.ok) {
      const placed = placeError(probe.error, 'destinationUrl');
      this.setState((st) => ({ busy: false, errors: { ...st.errors, destinationUrl: placed.fieldMessage }, banner: placed.banner }));
      return false;
    }
    this.setState((st) => ({
      busy: false,
      destination: probe.value,
      modeOptions: probe.value.modes,
      values: { ...st.values, destinationUrl: probe.value.url },
    }));
    this.preselectMode();
    return true;
  }

  /** Validates the current step (asking the backend where needed) and moves on. */
  async next(): Promise<void> {
    const s = this.getState();
    // Busy asking the destination (the admin left the URL field for Next): Next waits for that answer.
    if (s.busy && !(s.step === 'destination' && this.probing)) return;
    switch (s.step) {
      case 'destination':
        return this.leaveDestination();
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
        this.options.onFinished?.();
        return;
    }
  }

  async copyInvitationCode(): Promise<boolean> {
    const code = this.getState().result?.invitationCode;
    if (!code || !this.options.clipboard) return false;
    try {
      await this.options.clipboard.writeText(code);
      this.setState({ copied: true });
      return true;
    } catch {
      this.setState({
        banner: { code: 'VALIDATION_FAILED', message: 'Copying to the clipboard was not allowed by the browser. Select the code and copy it by hand.' },
      });
      return false;
    }
  }

  private async leaveDestination(): Promise<void> {
    const { values } = this.getState();
    if (values.noUrl && this.local.pollOnly) {
      this.setState({ errors: { destinationUrl: 'This node is private, so the partner must be reachable: enter its URL. Two private nodes cannot connect.' } });
      return;
    }
    if (!(await this.checkDestination())) return;
    const s = this.getState();
    if (!s.values.mode || !s.modeOptions.includes(s.values.mode)) {
      this.setState({ errors: { mode: `${GUIDE.configurationType}: ${s.modeOptions.map((m) => MODE_LABELS[m]).join(', ')}.` } });
      return;
    }
    this.setState({ step: 'details', errors: {}, banner: null });
  }

  private preselectMode(): void {
    this.setState((s) => ({
      values: {
        ...s.values,
        mode: s.values.mode && s.modeOptions.includes(s.values.mode) ? s.values.mode : s.modeOptions.includes('SCRIPT') ? 'SCRIPT' : (s.modeOptions[0] ?? null),
      },
    }));
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
      const step: InitiateStep =
        'destinationUrl' in fields || 'mode' in fields
          ? 'destination'
          : ['localShortName', 'remoteShortName', 'name', 'description'].some((f) => f in fields)
            ? 'details'
            : 'project';
      this.setState({ busy: false, step, errors: fields as InitiateState['errors'], banner: result.error });
      return;
    }
    this.setState({ busy: false, step: 'invitation', result: result.value, errors: {} });
  }

  private check(fields: Array<'localShortName' | 'remoteShortName' | 'name' | 'description' | 'project'>): InitiateState['errors'] {
    const { values } = this.getState();
    const errors: InitiateState['errors'] = {};
    for (const f of fields) {
      const rule = f === 'remoteShortName' && values.noUrl ? rules.destinationShortName : rules[f];
      const message = fieldError(rule, values[f]);
      if (message) errors[f] = message;
    }
    return errors;
  }
}
