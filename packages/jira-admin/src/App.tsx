import { useEffect, useMemo } from 'react';
import { AdminSession, type AdminHost, type AdminTab } from '@exalate/wizard-core';
import { Banner, Working } from './components.js';
import { AcceptDialog } from './screens/Accept.js';
import { ConfigureSyncScreen } from './screens/ConfigureSync.js';
import { ConnectionsScreen } from './screens/Connections.js';
import { InitiateDialog } from './screens/Initiate.js';
import { SettingsScreen } from './screens/Settings.js';
import { useStore } from './use-store.js';

/**
 * The Exalate page inside Jira's administration: renders the wizard core's admin session in
 * Atlaskit. Jira's sidebar (Settings → Apps → Exalate) picks the first screen; moving between
 * screens here keeps the address in step, so a reload stays where the admin is.
 */
export function App(props: { host: AdminHost; addressOf: (tab: AdminTab) => string }) {
  const session = useMemo(() => new AdminSession(props.host), [props.host]);
  const s = useStore(session);
  const words = session.words;

  useEffect(() => {
    if (s.screen.name === 'loading') return;
    const address = props.addressOf(s.tab);
    if (window.location.pathname !== address) window.history.replaceState(null, '', address);
  }, [s.tab, s.screen.name]);

  const screen = s.screen;
  switch (screen.name) {
    case 'loading':
      return <Working label="Loading Exalate…" size="medium" />;
    case 'settings':
      return (
        <>
          <Banner error={s.problem} />
          <SettingsScreen flow={screen.flow} words={words} />
        </>
      );
    case 'connections':
      return (
        <>
          <Banner error={s.problem} />
          <ConnectionsScreen
            list={screen.list}
            words={words}
            onConfigure={(id) => session.configure(id)}
            onInitiate={() => void session.openInitiate()}
            onAccept={() => session.openAccept()}
          />
          {screen.dialog?.name === 'initiate' ? <InitiateDialog flow={screen.dialog.flow} onClose={() => session.closeDialog()} /> : null}
          {screen.dialog?.name === 'accept' ? <AcceptDialog flow={screen.dialog.flow} onClose={() => session.closeDialog()} /> : null}
        </>
      );
    case 'configure':
      return <ConfigureSyncScreen flow={screen.flow} words={words} onBack={() => session.showConnections()} />;
  }
}
