// The Exalate admin role, and the platform's admin role containing it (so every admin has it;
// others get it in User Administration → Roles).
import '@servicenow/sdk/global';
import { Record, Role } from '@servicenow/sdk/core';

export const exalateAdmin = Role({
  name: 'x_exalate_sync.admin',
  description: 'Manages Exalate: connections, sync rules and triggers, the sync queue and the pairing with the Exalate node.',
});

// The admin role's sys_id is the same on every instance.
Record({
  $id: Now.ID['admin_contains_exalate_admin'],
  table: 'sys_user_role_contains',
  data: {
    role: Now.ref('sys_user_role', '2831a114c611228501d4ea6c309d626d', { name: 'admin' }),
    contains: Now.ref('sys_user_role', { name: 'x_exalate_sync.admin' }),
  },
});
