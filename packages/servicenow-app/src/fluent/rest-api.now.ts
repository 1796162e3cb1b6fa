// The Scripted REST API the Exalate page calls with the admin's session (X-UserToken), under
// /api/x_exalate_sync/exalate. Every resource runs the ExalateApi script include; all but
// published-node require the Exalate admin role by ACL.
import '@servicenow/sdk/global';
import { Acl, RestApi, ScriptInclude } from '@servicenow/sdk/core';
import { exalateAdmin } from './roles.now';

ScriptInclude({
  $id: Now.ID['exalate_api_include'],
  name: 'ExalateApi',
  apiName: 'x_exalate_sync.ExalateApi',
  script: Now.include('../scripts/ExalateApi.server.js'),
  description: "The Exalate REST API: settings, pairing with the node, and forwarding the page's calls to the node with the instance's key.",
  accessibleFrom: 'package_private',
  active: true,
});

export const restAcl = Acl({
  $id: Now.ID['exalate_rest_acl'],
  name: 'Exalate REST API',
  type: 'rest_endpoint',
  operation: 'execute',
  roles: [exalateAdmin],
  active: true,
  adminOverrides: true,
});

RestApi({
  $id: Now.ID['exalate_api'],
  name: 'Exalate',
  serviceId: 'exalate',
  consumes: 'application/json',
  produces: 'application/json',
  enforceAcl: [restAcl],
  routes: [
    {
      $id: Now.ID['route_settings'],
      name: 'settings',
      path: '/settings',
      method: 'GET',
      enforceAcl: [restAcl],
      script: `(function process(request, response) { new x_exalate_sync.ExalateApi().handle('GET', 'settings', request, response); })(request, response);`,
    },
    {
      $id: Now.ID['route_pair'],
      name: 'pair',
      path: '/pair',
      method: 'POST',
      enforceAcl: [restAcl],
      script: `(function process(request, response) { new x_exalate_sync.ExalateApi().handle('POST', 'pair', request, response); })(request, response);`,
    },
    {
      $id: Now.ID['route_node_get'],
      name: 'node GET',
      path: '/node',
      method: 'GET',
      enforceAcl: [restAcl],
      parameters: [{ $id: Now.ID['route_node_path'], name: 'path', required: true, shortDescription: 'The node admin API path to call, such as /connections' }],
      script: `(function process(request, response) { new x_exalate_sync.ExalateApi().handle('GET', 'node', request, response); })(request, response);`,
    },
    {
      $id: Now.ID['route_node_post'],
      name: 'node POST',
      path: '/node',
      method: 'POST',
      enforceAcl: [restAcl],
      script: `(function process(request, response) { new x_exalate_sync.ExalateApi().handle('POST', 'node', request, response); })(request, response);`,
    },
    {
      $id: Now.ID['route_node_put'],
      name: 'node PUT',
      path: '/node',
      method: 'PUT',
      enforceAcl: [restAcl],
      script: `(function process(request, response) { new x_exalate_sync.ExalateApi().handle('PUT', 'node', request, response); })(request, response);`,
    },
    {
      $id: Now.ID['route_node_delete'],
      name: 'node DELETE',
      path: '/node',
      method: 'DELETE',
      enforceAcl: [restAcl],
      script: `(function process(request, response) { new x_exalate_sync.ExalateApi().handle('DELETE', 'node', request, response); })(request, response);`,
    },
    // Public, as the Jira app's /node: a partner who enters this instance's URL finds its node.
    {
      $id: Now.ID['route_published_node'],
      name: 'published node',
      path: '/published-node',
      method: 'GET',
      enforceAcl: [],
      authorization: false,
      authentication: false,
      internalRole: false,
      script: `(function process(request, response) { new x_exalate_sync.ExalateApi().handle('GET', 'published-node', request, response); })(request, response);`,
    },
  ],
});
