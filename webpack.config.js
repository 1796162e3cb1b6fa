// Builds the tracker frontends: one entry per hub or page, each a thin view over
// @exalate/wizard-core. A frontend package adds its entry here when it lands
// (packages/ado-hub, packages/jira-admin, packages/servicenow-page); until then there is
// nothing to build and no script runs webpack.
export const frontends = [];

export default frontends;
