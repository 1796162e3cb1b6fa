// The ServiceNow page's entry. The application's UI page renders a root element that says where
// the application's Scripted REST API is; the module that opened the page names the screen
// (`sysparm_tab`). ServiceNow gives every page its session token as `window.g_ck`, which the REST
// API wants back as X-UserToken.
import './servicenow-page.css';
import { createRoot } from 'react-dom/client';
import { serviceNowAppHost, type AdminTab } from '@exalate/wizard-core';
import { App } from './App.js';

declare global {
  interface Window {
    g_ck?: string;
  }
}

const TABS: readonly AdminTab[] = ['connections', 'queue', 'settings'];

function main(): void {
  const root = document.getElementById('exalate-root');
  if (!root) return;
  const apiBase = root.dataset['api'] ?? '';
  const asked = new URLSearchParams(window.location.search).get('sysparm_tab') as AdminTab | null;
  const initialTab: AdminTab = asked && TABS.includes(asked) ? asked : 'connections';
  const host = serviceNowAppHost({
    apiBase,
    userToken: () => window.g_ck ?? '',
    clipboard: { writeText: (text) => navigator.clipboard.writeText(text) },
    initialTab,
  });
  const addressOf = (tab: AdminTab) => {
    const url = new URL(window.location.href);
    url.searchParams.set('sysparm_tab', tab);
    return url.pathname + url.search;
  };
  createRoot(root).render(<App host={host} addressOf={addressOf} />);
}

main();
