import type { NodeType } from '@exalate/contract';
import { itemAlias } from './object-model.js';

/**
 * The rules a new connection starts with (and all a Basic connection ever has): summary,
 * description, labels, comments and attachments both ways; on the first sync the item is created
 * in the project (or table) chosen when the connection was made, with the nearest item type.
 */
export interface SyncRules {
  outgoing: string;
  incoming: string;
}

export function defaultRules(platform: NodeType): SyncRules {
  const item = itemAlias(platform) ?? 'issue';
  const outgoing = `// What this side sends: fill the replica from the local ${item}.
replica.key = ${item}.key;
replica.id = ${item}.id;
replica.url = ${item}.url;
replica.type = ${item}.type;
replica.summary = ${item}.summary;
replica.description = ${item}.description;
replica.status = ${item}.status;
replica.priority = ${item}.priority;
replica.labels = ${item}.labels;
replica.assignee = ${item}.assignee;
replica.reporter = ${item}.reporter;
replica.comments = ${item}.comments;
replica.attachments = ${item}.attachments;
`;
  const incoming = `// What this side takes from the partner's replica.
if (firstSync) {
  // ${item}.project is already the ${platform === 'SERVICENOW' ? 'table' : 'project'} chosen for incoming sync.
${typeChoice(platform, item)}
}
${item}.summary = replica.summary;
${item}.description = replica.description;
${item}.labels = replica.labels || [];
${item}.comments = commentHelper.mergeComments(${item}, replica);
${item}.attachments = attachmentHelper.mergeAttachments(${item}, replica);
`;
  return { outgoing, incoming };
}

function typeChoice(platform: NodeType, item: string): string {
  if (platform === 'SERVICENOW') return `  ${item}.type = ${item}.project;`;
  const nearest: Record<string, string> =
    platform === 'AZURE_DEVOPS'
      ? { Story: 'User Story', 'New Feature': 'Feature', Improvement: 'User Story', incident: 'Bug', problem: 'Bug', change_request: 'Task', sc_task: 'Task' }
      : {
          'User Story': 'Story',
          'Product Backlog Item': 'Story',
          Issue: 'Task',
          Feature: 'Epic',
          incident: 'Bug',
          problem: 'Bug',
          change_request: 'Task',
          sc_task: 'Task',
        };
  return `  var nearest = ${JSON.stringify(nearest)};
  var type = nodeHelper.getIssueType(replica.type) || nodeHelper.getIssueType(nearest[replica.type]) ||
    nodeHelper.getIssueType('Task') || nodeHelper.getIssueType('Issue');
  if (!type) throw new Error('The project ' + ${item}.project + ' has none of the item types ' + replica.type + ', Task or Issue; choose one in the incoming rule.');
  ${item}.type = type.name;`;
}
