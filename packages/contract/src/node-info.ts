import { z } from 'zod';

export const NODE_TYPES = ['AZURE_DEVOPS', 'JIRA_SERVER', 'JIRA_CLOUD', 'SERVICENOW'] as const;
export type NodeType = (typeof NODE_TYPES)[number];

/** Basic: fixed default rules. Visual: field-mapping table. Script: full rules. Fixed for a connection's life. */
export const MODES = ['BASIC', 'VISUAL', 'SCRIPT'] as const;
export type Mode = (typeof MODES)[number];

/** The node-to-node protocol versions this code speaks. */
export const PROTOCOL_VERSION = { min: 1, max: 1 } as const;

export const NodeInfoSchema = z.object({
  product: z.literal('exalate'),
  nodeType: z.enum(NODE_TYPES),
  instanceId: z.uuid(),
  /** Where the tracker lives (shown to the partner admin). */
  trackerUrl: z.string().url(),
  /** Where other nodes reach this node; null for a private node. */
  nodeUrl: z.string().url().nullable(),
  protocol: z.object({ min: z.number().int().positive(), max: z.number().int().positive() }),
  modes: z.array(z.enum(MODES)).min(1),
  /** A private node: never receives requests, initiates all traffic itself. */
  pollOnly: z.boolean(),
  version: z.string(),
});
export type NodeInfo = z.infer<typeof NodeInfoSchema>;

/** The highest protocol version both ranges contain, or null when they do not overlap. */
export function commonProtocolVersion(a: NodeInfo['protocol'], b: NodeInfo['protocol']): number | null {
  const max = Math.min(a.max, b.max);
  return max >= Math.max(a.min, b.min) ? max : null;
}

export const NODE_TYPE_LABELS: Record<NodeType, string> = {
  AZURE_DEVOPS: 'Azure DevOps',
  JIRA_SERVER: 'Jira Data Center',
  JIRA_CLOUD: 'Jira Cloud',
  SERVICENOW: 'ServiceNow',
};

export const MODE_LABELS: Record<Mode, string> = { BASIC: 'Basic', VISUAL: 'Visual', SCRIPT: 'Script' };
