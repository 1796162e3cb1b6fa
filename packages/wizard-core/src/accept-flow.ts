import { decodeInvitationCode, type ConnectionView, type InvitationPreview, type Project } from '@exalate/contract';
import type { AdminApi, ClientError } from './api-client.js';
import { Store } from './store.js';
import { fieldError, placeError, rules } from './validation.js';
import { GUIDE } from './words.js';

/**
 * Accept invitation, as the product guides have it, step by step:
 *   code → project → established (or awaiting-initiator)
 * "code": paste the invitation code, Next (checked here, then previewed by the node).
 * "project": what the code says (partner, mode, connection name) above the project for the
 *   incoming sync; a new connection name only when the invitation's is taken here. Previous / Confirm.
 * "established": "Congratulations! Connection is established." with Configure Sync.
 * "awaiting-initiator": accepted, but the initiating node is private and completes it on its next check-in.
 * With a fixed place for incoming items (ServiceNow: Incident, changed later in Configure sync) there
 * is no project step: Next accepts at once, as the ServiceNow guide has it; only a taken connection
 * name stops on the second step, which then asks for the name alone.
 */
export const ACCEPT_STEPS = ['code', 'project', 'established'] as const;
export type AcceptStep = (typeof ACCEPT_STEPS)[number] | 'awaiting-initiator';

export const ACCEPT_STEP_TITLES: Record<'code' | 'project', string> = {
  code: GUIDE.pasteInvitationCode,
  project: GUIDE.projectHeading,
};

export interface AcceptState {
  step: AcceptStep;
  code: string;
  /** Needed only when the invitation's connection name is already used on this node. */
  name: string;
  project: string;
  errors: Partial<Record<'code' | 'name' | 'project', string>>;
  banner: ClientError | null;
  busy: boolean;
  preview: InvitationPreview | null;
  projects: Project[] | null;
  connection: ConnectionView | null;
}

/** The end screen's heading and text (the guide: "Congratulations!" then "Connection is established."). */
export const CONGRATULATIONS = `${GUIDE.congratulations} ${GUIDE.connectionEstablished}`;

export interface AcceptOptions {
  /** "Configure Sync" on the end screen. */
  onConfigure?: (connectionId: string) => void;
  /** Where incoming items go, without asking (ServiceNow: `incident`). */
  incomingProject?: string;
}

export class AcceptFlow extends Store<AcceptState> {
  constructor(
    private readonly api: AdminApi,
    private readonly options: AcceptOptions = {},
  ) {
    super({
      step: 'code',
      code: '',
      name: '',
      project: options.incomingProject ?? '',
      errors: {},
      banner: null,
      busy: false,
      preview: null,
      projects: null,
      connection: null,
    });
  }

  /** Whether the admin chooses the project (no: the host fixed it). */
  get asksForProject(): boolean {
    return this.options.incomingProject === undefined;
  }

  get stepTitle(): string {
    const { step } = this.getState();
    if (step === 'project' && !this.asksForProject) return 'Choose another name for the connection';
    return step === 'code' || step === 'project' ? ACCEPT_STEP_TITLES[step] : GUIDE.congratulations;
  }

  /** The connection the invitation makes, under the name it will have here. */
  get connectionName(): string {
    const s = this.getState();
    return s.preview?.nameTaken ? s.name : (s.preview?.connectionName ?? '');
  }

  setCode(code: string): void {
    this.setState({ code, errors: {}, banner: null, preview: null });
  }

  setName(name: string): void {
    this.setState((s) => ({ name, errors: { ...s.errors, name: undefined } }));
  }

  setProject(project: string): void {
    this.setState((s) => ({ project, errors: { ...s.errors, project: undefined } }));
  }

  canGoBack(): boolean {
    const { step, busy } = this.getState();
    return !busy && step === 'project';
  }

  back(): void {
    if (!this.canGoBack()) return;
    this.setState({ step: 'code', errors: {}, banner: null });
  }

  async next(): Promise<void> {
    const s = this.getState();
    if (s.busy) return;
    if (s.step === 'code') return this.checkCode();
    if (s.step !== 'project') return;
    const errors: AcceptState['errors'] = {};
    if (s.preview?.nameTaken) {
      const problem =
        fieldError(rules.name, s.name) ??
        (s.name.trim().toLowerCase() === s.preview.connectionName.toLowerCase() ? 'This name is already used here. Choose another one.' : null);
      if (problem) errors.name = problem;
    }
    const projectProblem = this.asksForProject ? fieldError(rules.project, s.project) : null;
    if (projectProblem) errors.project = projectProblem;
    if (Object.keys(errors).length) return this.setState({ errors });
    return this.confirm();
  }

  /** "Configure Sync" on the end screen. */
  configureSync(): void {
    const c = this.getState().connection;
    if (c) this.options.onConfigure?.(c.id);
  }

  private async checkCode(): Promise<void> {
    const { code } = this.getState();
    // The format and checksum are checked here first, so a bad paste is reported at once.
    const local = decodeInvitationCode(code);
    if (!local.ok) return this.setState({ errors: { code: `${local.error.message} (${local.error.code})` }, banner: null });
    this.setState({ busy: true, errors: {}, banner: null });
    const preview = await this.api.previewInvitation(code);
    if (!preview.ok) {
      const placed = placeError(preview.error, 'code');
      return this.setState({ busy: false, errors: { code: placed.fieldMessage }, banner: placed.banner });
    }
    this.setState({ busy: false, step: 'project', preview: preview.value, name: preview.value.nameTaken ? '' : preview.value.connectionName });
    if (!this.asksForProject) {
      if (!preview.value.nameTaken) await this.confirm();
      return;
    }
    await this.loadProjects();
  }

  private async loadProjects(): Promise<void> {
    if (this.getState().projects) return;
    this.setState({ busy: true });
    const projects = await this.api.listProjects();
    if (!projects.ok) return this.setState({ busy: false, banner: projects.error });
    this.setState((s) => ({
      busy: false,
      projects: projects.value.projects,
      project: s.project || (projects.value.projects.length === 1 ? projects.value.projects[0]!.key : ''),
    }));
  }

  private async confirm(): Promise<void> {
    const s = this.getState();
    this.setState({ busy: true, banner: null });
    const result = await this.api.acceptInvitation({ code: s.code, project: s.project, ...(s.preview?.nameTaken ? { name: s.name } : {}) });
    if (!result.ok) {
      const fields = result.error.fields ?? {};
      // Problems with the code itself send the admin back to paste another; the rest stay on the project step.
      if (result.error.code.startsWith('INVITATION_') || 'code' in fields) {
        const placed = placeError(result.error, 'code');
        return this.setState({ busy: false, step: 'code', errors: { code: placed.fieldMessage }, banner: placed.banner });
      }
      const field = 'project' in fields ? 'project' : 'name' in fields || result.error.code === 'CONNECTION_NAME_TAKEN' ? 'name' : null;
      if (!field) return this.setState({ busy: false, banner: result.error });
      const placed = placeError(result.error, field);
      this.setState((st) => ({
        busy: false,
        banner: placed.banner,
        errors: { [field]: placed.fieldMessage },
        // The name was taken meanwhile: ask for another.
        preview: field === 'name' && st.preview ? { ...st.preview, nameTaken: true } : st.preview,
        name: field === 'name' && st.preview && !st.preview.nameTaken ? '' : st.name,
      }));
      return;
    }
    const connection = result.value.connection;
    this.setState({ busy: false, connection, step: connection.status === 'PENDING' ? 'awaiting-initiator' : 'established' });
  }
}
