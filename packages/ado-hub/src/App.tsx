import * as React from 'react';
import { Header, TitleSize } from 'azure-devops-ui/Header';
import { Page } from 'azure-devops-ui/Page';
import { Spinner, SpinnerSize } from 'azure-devops-ui/Spinner';
import { Tab, TabBar, TabSize } from 'azure-devops-ui/Tabs';
import { AdminSession, GUIDE } from '@exalate/wizard-core';
import { Banner } from './components.js';
import type { HubHost } from './host.js';
import { AcceptDialog } from './screens/Accept.js';
import { ConfigureSyncScreen } from './screens/ConfigureSync.js';
import { ConnectionsScreen } from './screens/Connections.js';
import { InitiateDialog } from './screens/Initiate.js';
import { SettingsScreen } from './screens/Settings.js';
import { useStore } from './use-store.js';

/** The hub: renders the wizard core's admin session (which screen, which flow) in azure-devops-ui. */
export function App(props: { host: HubHost }): JSX.Element {
  const { host } = props;
  const session = React.useMemo(() => new AdminSession(host), [host]);
  const s = useStore(session);
  const words = session.words;

  const body = (() => {
    const screen = s.screen;
    switch (screen.name) {
      case 'loading':
        return <Spinner size={SpinnerSize.medium} label="Loading…" />;
      case 'settings':
        return <SettingsScreen flow={screen.flow} words={words} />;
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
  })();

  return (
    <Page className="exalate-page">
      <Header
        title="Exalate"
        titleSize={TitleSize.Large}
        description={`Sync work items of ${host.organization} with Jira, ServiceNow and other Azure DevOps organizations. Signed in as ${host.userName}.`}
      />
      <TabBar
        selectedTabId={s.tab}
        onSelectedTabChanged={(id) => (id === 'settings' ? session.showSettings() : session.showConnections())}
        tabSize={TabSize.Tall}
        ariaLabel="Exalate"
      >
        <Tab id="connections" name={GUIDE.connections} />
        <Tab id="settings" name={GUIDE.generalSettings} />
      </TabBar>
      <div className="page-content page-content-top exalate-content">{body}</div>
    </Page>
  );
}
