import type { ApiErrorBody, ErrorCode } from '@exalate/contract';

const STATUS: Partial<Record<ErrorCode, number>> = {
  VALIDATION_FAILED: 400,
  INVALID_CHARACTER: 400,
  REQUEST_TOO_LARGE: 413,
  SHORT_NAME_INVALID: 400,
  PROJECT_UNKNOWN: 400,
  MODE_NOT_SUPPORTED: 400,
  BOTH_SIDES_PRIVATE: 400,
  DESTINATION_URL_INVALID: 400,
  DESTINATION_IS_THIS_NODE: 400,
  DESTINATION_NOT_ALLOWED: 403,
  DESTINATION_UNREACHABLE: 502,
  DESTINATION_NOT_A_NODE: 502,
  DESTINATION_PROTOCOL_INCOMPATIBLE: 409,
  INITIATOR_UNREACHABLE: 502,
  UNAUTHENTICATED: 401,
  PEER_AUTH_FAILED: 401,
  PEER_REQUEST_REPLAYED: 401,
  NOT_FOUND: 404,
  CONNECTION_NOT_FOUND: 404,
  CONNECTION_NAME_TAKEN: 409,
  CONNECTION_STATE_CONFLICT: 409,
  INVITATION_CODE_EMPTY: 400,
  INVITATION_CODE_NOT_RECOGNIZED: 400,
  INVITATION_CODE_DAMAGED: 400,
  INVITATION_CODE_UNSUPPORTED_VERSION: 400,
  INVITATION_NOT_FOR_THIS_NODE: 400,
  INVITATION_FROM_THIS_NODE: 400,
  ACCEPTOR_NOT_VERIFIED: 403,
  INVITATION_EXPIRED: 410,
  INVITATION_ALREADY_USED: 409,
  INVITATION_REVOKED: 410,
  INVITATION_UNKNOWN: 404,
  PEER_REJECTED: 409,
  CONNECTION_DELETED: 410,
  ATTACHMENT_TOO_LARGE: 413,
  SYNC_RULE_INVALID: 400,
  SYNC_RULES_FIXED: 409,
  TRIGGER_NOT_FOUND: 404,
  TRIGGER_QUERY_INVALID: 400,
  ITEM_NOT_FOUND: 404,
  TRACKER_UNAVAILABLE: 502,
  WEBHOOK_REJECTED: 401,
  TRACKER_CREDENTIAL_REJECTED: 400,
  DESTINATION_IS_TRACKER: 400,
  PAIRING_CODE_INVALID: 400,
  PAIRING_CODE_EXPIRED: 410,
  PAIRING_CODE_USED: 409,
  PAIRING_WRONG_TRACKER: 403,
  // Answered by the tracker's app, never by the node; here so every code has its status.
  TRACKER_ADMIN_REQUIRED: 403,
  TRACKER_APP_NOT_PAIRED: 409,
  TRACKER_APP_NODE_UNREACHABLE: 502,
  INTERNAL: 500,
};

/** An error meant for the admin (or the partner node): stable code, actionable message. */
export class AppError extends Error {
  readonly status: number;
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly fields?: Record<string, string>,
  ) {
    super(message);
    this.name = 'AppError';
    this.status = STATUS[code] ?? 400;
  }

  toBody(): ApiErrorBody {
    return { error: { code: this.code, message: this.message, ...(this.fields ? { fields: this.fields } : {}) } };
  }
}

/** The server's configuration (environment, node files) is wrong: said at start, before any node runs. */
export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}
