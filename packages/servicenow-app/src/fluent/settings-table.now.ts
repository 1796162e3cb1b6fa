// The application's own settings: the paired node's URL, when and by whom it was paired, and the
// instance's key in an encrypted column. Read and written only by the application's script include.
import '@servicenow/sdk/global';
import { Acl, Password2Column, StringColumn, Table } from '@servicenow/sdk/core';
import { exalateAdmin } from './roles.now';

export const x_exalate_sync_setting = Table({
  name: 'x_exalate_sync_setting',
  label: 'Exalate setting',
  display: 'name',
  schema: {
    name: StringColumn({ label: 'Name', maxLength: 100, mandatory: true }),
    value: StringColumn({ label: 'Value', maxLength: 2000 }),
    secret: Password2Column({ label: 'Secret', maxLength: 255 }),
  },
});

// Only Exalate admins may read the settings in lists and forms (the key stays encrypted even then).
Acl({
  $id: Now.ID['setting_read'],
  type: 'record',
  operation: 'read',
  table: 'x_exalate_sync_setting',
  roles: [exalateAdmin],
  active: true,
  adminOverrides: true,
});
