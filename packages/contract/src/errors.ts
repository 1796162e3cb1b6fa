/**
 * Stable error codes. A code never changes meaning once released: frontends branch on it,
 * admins search for it. The message that travels with it is for the admin and says what to do.
 */
export const ERROR_CODES = [
  // request shape
  'VALIDATION_FAILED',
  /** A text holds a character that cannot be stored (NUL) or has no place in it (a control character in a name). */
  'INVALID_CHARACTER',
  /** The request body is larger than this endpoint takes. */
  'REQUEST_TOO_LARGE',
  'NOT_FOUND',
  'UNAUTHENTICATED',
  'INTERNAL',
  // destination probing (Initiate connection)
  'DESTINATION_URL_INVALID',
  'DESTINATION_NOT_ALLOWED',
  'DESTINATION_UNREACHABLE',
  'DESTINATION_NOT_A_NODE',
  'DESTINATION_PROTOCOL_INCOMPATIBLE',
  'DESTINATION_IS_THIS_NODE',
  'DESTINATION_IS_PRIVATE',
  /** The URL is a tracker's own address, and no Exalate app there tells where its node is. */
  'DESTINATION_IS_TRACKER',
  'MODE_NOT_SUPPORTED',
  'BOTH_SIDES_PRIVATE',
  // connection fields
  'CONNECTION_NAME_TAKEN',
  'SHORT_NAME_INVALID',
  'PROJECT_UNKNOWN',
  'CONNECTION_NOT_FOUND',
  'CONNECTION_STATE_CONFLICT',
  // invitation codes (Accept invitation)
  'INVITATION_CODE_EMPTY',
  'INVITATION_CODE_NOT_RECOGNIZED',
  'INVITATION_CODE_DAMAGED',
  'INVITATION_CODE_UNSUPPORTED_VERSION',
  'INVITATION_EXPIRED',
  'INVITATION_ALREADY_USED',
  'INVITATION_REVOKED',
  'INVITATION_UNKNOWN',
  'INVITATION_NOT_FOR_THIS_NODE',
  'INVITATION_FROM_THIS_NODE',
  /** The node at the invitation's URL did not confirm that it is the one accepting. */
  'ACCEPTOR_NOT_VERIFIED',
  'INITIATOR_UNREACHABLE',
  // sync
  'SYNC_RULE_INVALID',
  'SYNC_RULES_FIXED',
  'TRIGGER_NOT_FOUND',
  'TRIGGER_QUERY_INVALID',
  'ITEM_NOT_FOUND',
  'TRACKER_UNAVAILABLE',
  'WEBHOOK_REJECTED',
  // node settings
  'TRACKER_CREDENTIAL_REJECTED',
  // pairing with the Exalate app inside the tracker (Jira Data Center)
  /** Not a pairing code this node issued (or mistyped). */
  'PAIRING_CODE_INVALID',
  'PAIRING_CODE_EXPIRED',
  'PAIRING_CODE_USED',
  /** The app that sent the code runs in another tracker than the one this node serves. */
  'PAIRING_WRONG_TRACKER',
  // the Exalate app inside the tracker, answering its own page
  /** Signed in to the tracker, but not one of its system administrators. */
  'TRACKER_ADMIN_REQUIRED',
  /** The app holds no node yet: pair it in General settings. */
  'TRACKER_APP_NOT_PAIRED',
  /** The app could not reach the node it pairs with. */
  'TRACKER_APP_NODE_UNREACHABLE',
  // node-to-node
  'PEER_AUTH_FAILED',
  'PEER_REQUEST_REPLAYED',
  'PEER_REJECTED',
  /** The partner deleted the connection on its side; it receives nothing more for it. */
  'CONNECTION_DELETED',
  /** An attachment the partner asked for is larger than this node's limit; the item comes again without it. */
  'ATTACHMENT_TOO_LARGE',
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

/** The body of every non-2xx answer of the admin and peer APIs. */
export interface ApiErrorBody {
  error: {
    code: ErrorCode;
    message: string;
    /** Field-level problems, keyed by the request field (e.g. `localShortName`). */
    fields?: Record<string, string>;
  };
}

/** A failure as a value, so callers at a boundary handle it instead of catching. */
export type Result<T, E = ApiErrorBody['error']> = { ok: true; value: T } | { ok: false; error: E };

export const ok = <T>(value: T): { ok: true; value: T } => ({ ok: true, value });
export const fail = <E>(error: E): { ok: false; error: E } => ({ ok: false, error });
