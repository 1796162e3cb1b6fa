import { decodeInvitationCode, type ConnectionView, type InvitationPreview, type Project } from '@exalate/contract';
import type { AdminApi, ClientError } from './api-client.js';
import { Store } from './store.js';
import { fieldError, rules } from './validation.js';

/**
 * Accept invitation, step by step:
 *   code → preview → project → confirm → established (or awaiting-initiator)
 * "established" is "Congratulations! Connection is established" with "Configure sync".
 * "awaiting-initiator": accepted, but the initiating node is private and completes it on its next check-in.
 */
export const ACCEPT_STEPS = ['code', 'preview', 'project', 'confirm', 'established'] as const;
export type AcceptStep = (typeof ACCEPT_STEPS)[number] | 'awaiting-initiator';

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
  /** The admin clicked "Configure sync". */
  configureRequested: boolean;
}

export const CONGRATULATIONS = 'Congratulations! Connection is established';

export class AcceptFlow extends Store<AcceptState> {
  constructor(private readonly api: AdminApi) {
    super({ step: 'code', code: '', name: '', project: '', errors: {}, banner: null, busy: false, preview: null, projects: null, connection: null, configureRequested: false });
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
    return !busy && (step === 'preview' || step === 'project' || step === 'confirm');
  }

  back(): void {
    if (!this.canGoBack()) return;
    this.setState((s) => ({ step: ACCEPT_STEPS[ACCEPT_STEPS.indexOf(s.step as (typeof ACCEPT_STEPS)[number]) - 1]!, errors: {}, banner: null }));
  }

  async next(): Promise<void> {
    const s = this.getState();
    if (s.busy) return;
    switch (s.step) {
      case 'code':
        return this.checkCode();
      case 'preview': {
        if (s.preview?.nameTaken) {
          const problem = fieldError(rules.name, s.name) ?? (s.name.trim().toLowerCase() === s.preview.connectionName.toLowerCase() ? 'This name is already used here. Choose another one.' : null);
          if (problem) return this.setState({ errors: { name: problem } });
        }
        this.setState({ step: 'project', errors: {} });
        return this.loadProjects();
      }
      case 'project': {
        const problem = fieldError(rules.project, s.project);
        if (problem) return this.setState({ errors: { project: problem } });
        this.setState({ step: 'confirm', errors: {} });
        return;
      }
      case 'confirm':
        return this.confirm();
      default:
        return;
    }
  }

  /** "Configure sync" on the end screen: the view navigates to the connection's sync settings. */
  configureSync(): void {
    if (this.getState().connection) this.setState({ configureRequested: true });
  }

  private async checkCode(): Promise<void> {
    const { code } = this.getState();
    // The format and checksum are checked here first, so a bad paste is reported instantly.
    const local = decodeInvitationCode(code);
    if (!local.ok) return this.setState({ errors: { code: local.error.message }, banner: { code: local.error.code, message: local.error.message } });
    this.setState({ busy: true, errors: {}, banner: null });
    const preview = await this.api.previewInvitation(code);
    if (!preview.ok) return this.setState({ busy: false, errors: { code: preview.error.message }, banner: preview.error });
    this.setState({ busy: false, step: 'preview', preview: preview.value, name: preview.value.nameTaken ? '' : preview.value.connectionName });
  }

  private async loadProjects(): Promise<void> {
    if (this.getState().projects) return;
    this.setState({ busy: true });
    const projects = await this.api.listProjects();
    if (!projects.ok) return this.setState({ busy: false, banner: projects.error });
    this.setState((s) => ({ busy: false, projects: projects.value.projects, project: s.project || (projects.value.projects.length === 1 ? projects.value.projects[0]!.key : '') }));
  }

  private async confirm(): Promise<void> {
    const s = this.getState();
    this.setState({ busy: true, banner: null });
    const result = await this.api.acceptInvitation({ code: s.code, project: s.project, ...(s.preview?.nameTaken ? { name: s.name } : {}) });
    if (!result.ok) {
      const fields = result.error.fields ?? {};
      // Problems with the code itself send the admin back to paste another; the rest stay on Confirm.
      const codeProblem = result.error.code.startsWith('INVITATION_') || 'code' in fields;
      const step: AcceptStep = codeProblem ? 'code' : 'project' in fields ? 'project' : 'name' in fields || result.error.code === 'CONNECTION_NAME_TAKEN' ? 'preview' : 'confirm';
      const errors: AcceptState['errors'] = codeProblem ? { code: result.error.message } : step === 'project' ? { project: result.error.message } : step === 'preview' ? { name: result.error.message } : {};
      this.setState((st) => ({
        busy: false,
        step,
        banner: result.error,
        errors,
        preview: step === 'preview' && st.preview ? { ...st.preview, nameTaken: true } : st.preview,
      }));
      return;
    }
    const connection = result.value.connection;
    this.setState({ busy: false, connection, step: connection.status === 'PENDING' ? 'awaiting-initiator' : 'established' });
  }
}
