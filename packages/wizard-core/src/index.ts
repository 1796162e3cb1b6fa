export { Store, type Listener } from './store.js';
export { AdminApiClient, type AdminApi, type SyncAdminApi, type NodeSettingsApi, type AdminApiClientOptions, type ApiResult, type ClientError } from './api-client.js';
export { InitiateFlow, INITIATE_STEPS, type InitiateState, type InitiateStep, type InitiateValues, type InitiateField, type Clipboard } from './initiate-flow.js';
export { AcceptFlow, ACCEPT_STEPS, CONGRATULATIONS, type AcceptState, type AcceptStep } from './accept-flow.js';
export { ConnectionList, actionsFor, partnerLabel, toRowView, STATUS_LABELS, type ConnectionAction, type ConnectionListState, type ConnectionRowView } from './connection-list.js';
export { destinationUrlError, fieldError } from './validation.js';
export { decodeInvitationCode, MODE_LABELS, NODE_TYPE_LABELS } from '@exalate/contract';
export { SettingsFlow, nodeUrlError, type SettingsState, type SettingsStorage } from './settings-flow.js';
export { ConfigureSyncFlow, type ConfigureSyncState, type RuleDirection, type TriggerDraft } from './configure-sync-flow.js';
