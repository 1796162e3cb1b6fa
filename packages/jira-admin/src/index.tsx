// The Jira page's entry: the app's servlet renders a root element that says where the servlet is
// and which sidebar item was opened; everything else comes from the admin session.
import '@atlaskit/css-reset';
import './jira-admin.css';
import { createRoot } from 'react-dom/client';
import { jiraAppHost, type AdminTab } from '@exalate/wizard-core';
import { App } from './App.js';

function main(): void {
  const root = document.getElementById('exalate-root');
  if (!root) return;
  const servlet = root.dataset['servlet'] ?? '';
  const initialTab: AdminTab = root.dataset['screen'] === 'settings' ? 'settings' : 'connections';
  const host = jiraAppHost({
    servletBase: new URL(servlet, window.location.href).href,
    clipboard: { writeText: (text) => navigator.clipboard.writeText(text) },
    initialTab,
  });
  createRoot(root).render(<App host={host} addressOf={(tab) => `${servlet}/${tab}`} />);
}

main();
