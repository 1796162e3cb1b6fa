import { z } from 'zod';
import { MODES, NODE_TYPES, type Mode, type NodeType } from './node-info.js';

export const CONNECTION_STATUSES = ['PENDING', 'ACTIVE', 'DEACTIVATED', 'ERROR'] as const;
export type ConnectionStatus = (typeof CONNECTION_STATUSES)[number];

/**
 * Why a connection is Pending: the initiator waits for its partner to accept the code;
 * an acceptor whose initiator is private waits for that initiator to come and collect the acceptance.
 */
export const PENDING_STEPS = ['AWAITING_ACCEPTANCE', 'AWAITING_INITIATOR'] as const;
export type PendingStep = (typeof PENDING_STEPS)[number];

export const SHORT_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,39}$/;
export const SHORT_NAME_RULE = 'Use 1 to 40 characters: letters, digits, ".", "_" or "-", starting with a letter or digit, and no spaces.';

export const shortNameSchema = (which: string) =>
  z
    .string({ error: `${which} is required.` })
    .min(1, { error: `${which} is required. ${SHORT_NAME_RULE}` })
    .regex(/^\S*$/, { error: `${which} must not contain spaces. ${SHORT_NAME_RULE}` })
    .regex(SHORT_NAME_PATTERN, { error: `${which} is not valid. ${SHORT_NAME_RULE}` });

/**
 * A connection name as it is stored and compared: Unicode NFC, no invisible or control characters
 * (zero-width spaces, joiners, bidirectional controls, fillers), any run of spaces one space, no
 * space at either end. Two names that look alike are then alike ("Acme" and "Ac\u200Bme" are one).
 */
export function normalizeConnectionName(name: string): string {
  return name
    .normalize('NFC')
    .replace(/[\p{Cc}\p{Cf}\p{Zl}\p{Zp}\u115F\u1160\u2800\u3164\uFFA0]/gu, (c) => (/\s/.test(c) ? ' ' : ''))
    .replace(/\s+/g, ' ')
    .trim();
}

export const connectionNameSchema = z
  .string()
  .transform(normalizeConnectionName)
  .pipe(z.string().min(1, { error: 'Connection name is required.' }).max(100, { error: 'Connection name must be at most 100 characters.' }));

export const descriptionSchema = z.string().max(1000, { error: 'Description must be at most 1,000 characters.' });

export const projectSchema = z
  .string({ error: 'Choose the project where items from the other side are created.' })
  .trim()
  .min(1, { error: 'Choose the project where items from the other side are created.' });

/** The name the wizard proposes before the admin types one. */
export function defaultConnectionName(localShortName: string, remoteShortName: string): string {
  return `${localShortName}_to_${remoteShortName}`;
}

export const ProbeDestinationRequestSchema = z.object({ url: z.string() });
export type ProbeDestinationRequest = z.infer<typeof ProbeDestinationRequestSchema>;

export interface ProbeDestinationResponse {
  /** The normalized node URL to put in the invitation. */
  url: string;
  nodeType: NodeType;
  trackerUrl: string;
  pollOnly: boolean;
  protocolVersion: number;
  /** Modes both nodes support, in the order the wizard offers them. */
  modes: Mode[];
}

export const InitiateConnectionRequestSchema = z.object({
  /** The partner node's URL, or null for "I don't have a URL" (private partner). */
  destinationUrl: z.string().nullable(),
  mode: z.enum(MODES, { error: 'Choose Basic, Visual or Script mode.' }),
  localShortName: shortNameSchema('Local short name'),
  remoteShortName: shortNameSchema('Remote short name'),
  /** Defaults to `local_to_remote`. */
  name: connectionNameSchema.optional(),
  description: descriptionSchema.optional().default(''),
  project: projectSchema,
});
export type InitiateConnectionRequest = z.input<typeof InitiateConnectionRequestSchema>;

/** Configure sync: the project (or ServiceNow table) where items from the partner are created. */
export const SetProjectRequestSchema = z.object({ project: projectSchema });
export type SetProjectRequest = z.infer<typeof SetProjectRequestSchema>;

export const InvitationCodeRequestSchema = z.object({ code: z.string() });
export type InvitationCodeRequest = z.infer<typeof InvitationCodeRequestSchema>;

export const AcceptInvitationRequestSchema = z.object({
  code: z.string(),
  project: projectSchema,
  /** Only needed when this node already has a connection with the invitation's name. */
  name: connectionNameSchema.optional(),
});
export type AcceptInvitationRequest = z.input<typeof AcceptInvitationRequestSchema>;

export interface PartnerView {
  instanceId: string | null;
  nodeType: NodeType | null;
  nodeUrl: string | null;
  trackerUrl: string | null;
  /** True when the partner is private (never called, it polls). Null until known. */
  private: boolean | null;
}

export interface ConnectionView {
  id: string;
  name: string;
  description: string;
  mode: Mode;
  role: 'INITIATOR' | 'ACCEPTOR';
  status: ConnectionStatus;
  pendingStep: PendingStep | null;
  /** Why the connection is in Error, or what a Pending connection waits for, in the admin's words. */
  statusReason: string | null;
  localShortName: string;
  remoteShortName: string;
  /** Project (or table) where items arriving from the partner are created. */
  project: string;
  partner: PartnerView;
  /** While the invitation can still be accepted. */
  invitationExpiresAt: string | null;
  createdAt: string;
  updatedAt: string;
  activatedAt: string | null;
}

export interface InitiateConnectionResponse {
  connection: ConnectionView;
  invitationCode: string;
}

export interface InvitationCodeResponse {
  invitationCode: string;
  expiresAt: string;
}

export interface InvitationPreview {
  connectionId: string;
  connectionName: string;
  description: string;
  mode: Mode;
  /** This side's short name (the initiator's "remote" one) and the partner's. */
  localShortName: string;
  remoteShortName: string;
  initiator: {
    nodeType: NodeType;
    trackerUrl: string;
    nodeUrl: string | null;
    private: boolean;
  };
  expiresAt: string;
  /** Whether a connection with this name already exists here, so the wizard can ask for another. */
  nameTaken: boolean;
}

export interface AcceptInvitationResponse {
  connection: ConnectionView;
}

export interface ConnectionListResponse {
  connections: ConnectionView[];
}

export interface Project {
  key: string;
  name: string;
}
/**
 * A field an item keeps beside the object model's own (in `customFields`): Jira's custom fields,
 * Azure DevOps' other work item fields, ServiceNow's `u_*` columns. `id` is the tracker's
 * (`customfield_10010`, `Custom.Customer`, `u_customer`), `name` what its admins see, `type`
 * in the tracker's words (`number`, `double`, `decimal`, …).
 */
export interface TrackerField {
  id: string;
  name: string;
  type: string;
}

export interface ProjectListResponse {
  projects: Project[];
}

export const NodeTypeSchema = z.enum(NODE_TYPES);
