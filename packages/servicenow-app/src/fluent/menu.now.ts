// All → Exalate: the application menu and its modules, each opening the Exalate page on its screen.
import '@servicenow/sdk/global';
import { ApplicationMenu, Record } from '@servicenow/sdk/core';
import { exalateAdmin } from './roles.now';

export const menu = ApplicationMenu({
  $id: Now.ID['exalate_menu'],
  title: 'Exalate',
  hint: 'Sync records with partners in Jira, Azure DevOps and ServiceNow',
  roles: [exalateAdmin],
  order: 100,
});

// Modules take their roles as names: the SDK writes a Role object here as "[object Object]".
Record({
  $id: Now.ID['module_connections'],
  table: 'sys_app_module',
  data: {
    title: 'Connections',
    application: menu,
    link_type: 'DIRECT',
    query: 'x_exalate_sync_exalate.do?sysparm_tab=connections',
    roles: ['x_exalate_sync.admin'],
    order: 100,
    hint: 'Initiate and accept connections, configure what they sync',
  },
});
Record({
  $id: Now.ID['module_queue'],
  table: 'sys_app_module',
  data: {
    title: 'Sync queue',
    application: menu,
    link_type: 'DIRECT',
    query: 'x_exalate_sync_exalate.do?sysparm_tab=queue',
    roles: ['x_exalate_sync.admin'],
    order: 200,
    hint: 'What each connection synced, what waits and what failed',
  },
});
Record({
  $id: Now.ID['module_settings'],
  table: 'sys_app_module',
  data: {
    title: 'Settings',
    application: menu,
    link_type: 'DIRECT',
    query: 'x_exalate_sync_exalate.do?sysparm_tab=settings',
    roles: ['x_exalate_sync.admin'],
    order: 300,
    hint: 'Pair the instance with its Exalate node',
  },
});
