// The Exalate page (x_exalate_sync_exalate.do): the SDK builds src/client into a UX asset the page loads.
import '@servicenow/sdk/global';
import { UiPage } from '@servicenow/sdk/core';
import exalatePage from '../client/index.html';

UiPage({
  $id: Now.ID['exalate_page'],
  endpoint: 'x_exalate_sync_exalate.do',
  description: 'Exalate: connections, sync configuration, the sync queue and settings',
  category: 'general',
  html: exalatePage,
  direct: true,
});
