import { z } from 'zod';

/** General settings of a node, as its admin frontends show them. Secrets never leave the node. */
export interface NodeSettingsView {
  tracker: {
    url: string;
    /** Where the token or password the node acts with comes from. */
    credential: {
      source: 'configuration' | 'settings';
      /** When an admin last set it here (source "settings"). */
      updatedAt: string | null;
      /** Set when a token stored here cannot be used (e.g. the node's secret key changed). */
      problem: string | null;
    };
  };
}

export const SetTrackerCredentialRequestSchema = z.object({
  secret: z.string().trim().min(1, 'Enter the personal access token.').max(2000, 'That is longer than any token the tracker issues.'),
});
export type SetTrackerCredentialRequest = z.infer<typeof SetTrackerCredentialRequestSchema>;
