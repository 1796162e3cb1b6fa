/** The work item fields the simulator knows: reference name, display name, type, who may write it. */
export interface FieldDefinition {
  referenceName: string;
  name: string;
  type: 'string' | 'html' | 'integer' | 'double' | 'dateTime' | 'identity' | 'plainText' | 'treePath';
  /** Set by the service; writable only with bypassRules (dates and people) or never (ids). */
  readOnly?: 'always' | 'unlessBypassRules';
}

export const FIELDS: FieldDefinition[] = [
  { referenceName: 'System.Id', name: 'ID', type: 'integer', readOnly: 'always' },
  { referenceName: 'System.Rev', name: 'Rev', type: 'integer', readOnly: 'always' },
  // Writable: setting it moves the work item to another project (Azure DevOps Services).
  { referenceName: 'System.TeamProject', name: 'Team Project', type: 'string' },
  { referenceName: 'System.WorkItemType', name: 'Work Item Type', type: 'string' },
  { referenceName: 'System.AreaPath', name: 'Area Path', type: 'treePath' },
  { referenceName: 'System.IterationPath', name: 'Iteration Path', type: 'treePath' },
  { referenceName: 'System.Title', name: 'Title', type: 'string' },
  { referenceName: 'System.Description', name: 'Description', type: 'html' },
  { referenceName: 'System.State', name: 'State', type: 'string' },
  { referenceName: 'System.Reason', name: 'Reason', type: 'string' },
  { referenceName: 'System.Tags', name: 'Tags', type: 'plainText' },
  { referenceName: 'System.AssignedTo', name: 'Assigned To', type: 'identity' },
  { referenceName: 'System.CreatedBy', name: 'Created By', type: 'identity', readOnly: 'unlessBypassRules' },
  { referenceName: 'System.CreatedDate', name: 'Created Date', type: 'dateTime', readOnly: 'unlessBypassRules' },
  { referenceName: 'System.ChangedBy', name: 'Changed By', type: 'identity', readOnly: 'unlessBypassRules' },
  { referenceName: 'System.ChangedDate', name: 'Changed Date', type: 'dateTime', readOnly: 'unlessBypassRules' },
  { referenceName: 'System.CommentCount', name: 'Comment Count', type: 'integer', readOnly: 'always' },
  { referenceName: 'System.History', name: 'History', type: 'html' },
  { referenceName: 'Microsoft.VSTS.Common.Priority', name: 'Priority', type: 'integer' },
  { referenceName: 'Microsoft.VSTS.Common.Severity', name: 'Severity', type: 'string' },
  { referenceName: 'Microsoft.VSTS.Common.StateChangeDate', name: 'State Change Date', type: 'dateTime', readOnly: 'unlessBypassRules' },
  { referenceName: 'Microsoft.VSTS.TCM.ReproSteps', name: 'Repro Steps', type: 'html' },
  { referenceName: 'Microsoft.VSTS.Common.AcceptanceCriteria', name: 'Acceptance Criteria', type: 'html' },
  { referenceName: 'Microsoft.VSTS.Scheduling.RemainingWork', name: 'Remaining Work', type: 'double' },
  { referenceName: 'Microsoft.VSTS.Scheduling.StoryPoints', name: 'Story Points', type: 'double' },
];

/** The process's custom fields every simulated organization has (a seed adds its own). */
export const CUSTOM_FIELDS: FieldDefinition[] = [
  { referenceName: 'Custom.Customer', name: 'Customer', type: 'string' },
  { referenceName: 'Custom.Effort', name: 'Effort', type: 'double' },
];

/** A field as GET _apis/wit/fields lists it. https://learn.microsoft.com/rest/api/azure/devops/wit/fields/list?view=azure-devops-rest-7.1 */
export function renderField(base: string, f: FieldDefinition): Record<string, unknown> {
  return {
    name: f.name,
    referenceName: f.referenceName,
    type: f.type,
    usage: 'workItem',
    readOnly: f.readOnly === 'always',
    canSortBy: f.type !== 'html' && f.type !== 'plainText',
    isQueryable: true,
    isIdentity: f.type === 'identity',
    isPicklist: false,
    isPicklistSuggested: false,
    url: `${base}/_apis/wit/fields/${f.referenceName}`,
  };
}

const byReference = new Map(FIELDS.map((f) => [f.referenceName.toLowerCase(), f]));
const byName = new Map(FIELDS.map((f) => [f.name.toLowerCase(), f]));

/**
 * A field by reference name or display name, as WIQL and JSON Patch paths allow: the built-in
 * ones, then the process's custom ones; any other `Custom.*` field is taken as a free-form string.
 */
export function findField(name: string, custom: FieldDefinition[] = CUSTOM_FIELDS): FieldDefinition | null {
  const key = name.toLowerCase();
  const known = byReference.get(key) ?? byName.get(key) ?? custom.find((f) => f.referenceName.toLowerCase() === key || f.name.toLowerCase() === key);
  if (known) return known;
  if (/^custom\.[a-z0-9_]+$/i.test(name)) return { referenceName: name, name: name.slice(7), type: 'string' };
  return null;
}
