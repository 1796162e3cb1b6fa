import * as React from 'react';
import { Header, TitleSize } from 'azure-devops-ui/Header';
import { Page } from 'azure-devops-ui/Page';
import { Tab, TabBar, TabSize } from 'azure-devops-ui/Tabs';
import { AcceptFlow, AdminApiClient, ConfigureSyncFlow, ConnectionList, InitiateFlow, SettingsFlow, type ClientError } from '@exalate/wizard-core';
import type { NodeInfo } from '@exalate/contract';
import { Banner } from './components.js';
import type { HubHost } from './host.js';
import { AcceptScreen } from './screens/Accept.js';
import { ConfigureSyncScreen } from './screens/ConfigureSync.js';
import { ConnectionsScreen } from './screens/Connections.js';
import { InitiateScreen } from './screens/Initiate.js';
import { SettingsScreen } from './screens/Settings.js';

type Screen = { name: 'connections' } | { name: 'initiate' } | { name: 'accept' } | { name: 'configure'; connectionId: string } | { name: 'settings' };

const clipboard = { writeText: (text: string) => navigator.clipboard.writeText(text) };

/** The hub: a thin view over the wizard core's flows, one per screen. */
export function App(props: { host: HubHost }): JSX.Element {
  const { host } = props;
  const settings = React.useMemo(
    () => new SettingsFlow({ load: () => host.loadSettings(), save: (s) => host.saveSettings(s) }, (url) => host.api(url), 'AZURE_DEVOPS'),
    [host],
  );
  const [nodeUrl, setNodeUrl] = React.useState<string | null | undefined>(undefined);
  const [screen, setScreen] = React.useState<Screen>({ name: 'connections' });
  const [local, setLocal] = React.useState<NodeInfo | null>(null);
  const [problem, setProblem] = React.useState<ClientError | null>(null);

  React.useEffect(() => {
    void settings.load().then(() => {
      const saved = settings.getState().saved;
      setNodeUrl(saved);
      if (!saved) setScreen({ name: 'settings' });
      host.loaded();
    });
  }, [settings]);

  const api: AdminApiClient | null = React.useMemo(() => (nodeUrl ? host.api(nodeUrl) : null), [nodeUrl]);
  React.useEffect(() => {
    if (!api) return;
    void api.nodeInfo().then((r) => {
      if (r.ok) {
        setLocal(r.value);
        setProblem(null);
      } else setProblem(r.error);
    });
  }, [api]);

  const list = React.useMemo(() => (api ? new ConnectionList(api, clipboard) : null), [api]);
  // A new flow each time the admin opens the screen, so a finished wizard never shows again.
  const initiate = React.useMemo(() => (api && local && screen.name === 'initiate' ? new InitiateFlow(api, local, clipboard) : null), [api, local, screen]);
  const configure = React.useMemo(() => (api && screen.name === 'configure' ? new ConfigureSyncFlow(api, screen.connectionId) : null), [api, screen]);
  const accept = React.useMemo(() => (api && screen.name === 'accept' ? new AcceptFlow(api) : null), [api, screen]);

  const tab = screen.name === 'settings' ? 'settings' : 'connections';
  const body = (() => {
    if (nodeUrl === undefined) return null;
    if (screen.name === 'settings' || !api) return <SettingsScreen flow={settings} onSaved={() => { setNodeUrl(settings.getState().saved); setScreen({ name: 'connections' }); }} />;
    switch (screen.name) {
      case 'connections':
        return list ? <ConnectionsScreen list={list} onConfigure={(id) => setScreen({ name: 'configure', connectionId: id })} onInitiate={() => setScreen({ name: 'initiate' })} onAccept={() => setScreen({ name: 'accept' })} /> : null;
      case 'initiate':
        return initiate ? <InitiateScreen flow={initiate} onDone={() => setScreen({ name: 'connections' })} onCancel={() => setScreen({ name: 'connections' })} /> : null;
      case 'accept':
        return accept ? <AcceptScreen flow={accept} onConfigure={(id) => setScreen({ name: 'configure', connectionId: id })} onClose={() => setScreen({ name: 'connections' })} /> : null;
      case 'configure':
        return configure ? <ConfigureSyncScreen flow={configure} onBack={() => setScreen({ name: 'connections' })} /> : null;
    }
  })();

  return (
    <Page className="exalate-page">
      <Header title="Exalate" titleSize={TitleSize.Large} description={`Sync work items of ${host.organization} with Jira, ServiceNow and other Azure DevOps organizations. Signed in as ${host.userName}.`} />
      <TabBar selectedTabId={tab} onSelectedTabChanged={(id) => setScreen(id === 'settings' ? { name: 'settings' } : { name: 'connections' })} tabSize={TabSize.Tall} ariaLabel="Exalate">
        <Tab id="connections" name="Connections" />
        <Tab id="settings" name="General settings" />
      </TabBar>
      <div className="page-content page-content-top exalate-content">
        {screen.name !== 'settings' ? <Banner error={problem} /> : null}
        {body}
      </div>
    </Page>
  );
}

