export { Store, type Listener } from './store.js';
export {
  AdminApiClient,
  type AdminApi,
  type SyncAdminApi,
  type NodeSettingsApi,
  type AdminApiClientOptions,
  type ApiResult,
  type ClientError,
} from './api-client.js';
export { AdminSession, type AdminHost, type AdminScreen, type AdminSessionState, type AdminTab, type ConnectionsDialog } from './admin-session.js';
export {
  InitiateFlow,
  INITIATE_STEPS,
  INITIATE_STEP_TITLES,
  type InitiateState,
  type InitiateStep,
  type InitiateValues,
  type InitiateField,
  type InitiateOptions,
  type ModeChoice,
  type Clipboard,
} from './initiate-flow.js';
export { AcceptFlow, ACCEPT_STEPS, ACCEPT_STEP_TITLES, CONGRATULATIONS, type AcceptState, type AcceptStep, type AcceptOptions } from './accept-flow.js';
export {
  ConnectionList,
  ACTION_LABELS,
  actionsFor,
  partnerLabel,
  statusReasonFor,
  toRowView,
  STATUS_LABELS,
  type ConnectionAction,
  type ConnectionListOptions,
  type ConnectionListState,
  type ConnectionRowView,
  type PendingConfirmation,
} from './connection-list.js';
export { QueueOverview, type QueueOverviewState, type QueueRow } from './queue-overview.js';
export { destinationUrlError, fieldError, placeError } from './validation.js';
export { decodeInvitationCode, MODE_LABELS, NODE_TYPE_LABELS } from '@exalate/contract';
export { SettingsFlow, nodeUrlError, type SettingsState, type SettingsStorage } from './settings-flow.js';
export { ConfigureSyncFlow, type ConfigureSyncState, type RuleDirection, type TriggerDraft } from './configure-sync-flow.js';
export { GUIDE, wordsFor, formatTime, previewHeadline, capitalize, ITEM_STATUS_LABELS, ruleHints, credentialSourceText, type TrackerWords } from './words.js';
export { JiraAppClient, jiraAppHost, type JiraAppHostOptions } from './jira-app-host.js';
export {
  SERVICENOW_INCOMING_TABLE,
  ServiceNowAppClient,
  serviceNowAppHost,
  type ServiceNowAppHostOptions,
  type ServiceNowAppSettings,
} from './servicenow-app-host.js';
