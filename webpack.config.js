// Builds the tracker frontends: one configuration per frontend, each kept beside its package (its
// own React, its own UI kit), composed here. `npm run build:ado`, `build:jira` and `build:servicenow` build one
// of them by name (`webpack --mode production --config-name ado-hub`); `build:frontends` builds all.
import adoHub from './packages/ado-hub/webpack.config.js';
import jiraAdmin from './packages/jira-admin/webpack.config.js';
import servicenowPage from './packages/servicenow-app/webpack.config.js';

/** @type {(env: Record<string, string>, argv: { mode?: string }) => import('webpack').Configuration[]} */
export default (_env, argv) => {
  const production = argv.mode !== 'development';
  return [adoHub({ production }), jiraAdmin({ production }), servicenowPage({ production })];
};
