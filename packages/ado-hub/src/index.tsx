import 'azure-devops-ui/Core/override.css';
import './hub.css';
import * as React from 'react';
import * as ReactDOM from 'react-dom';
import { SurfaceBackground, SurfaceContext } from 'azure-devops-ui/Surface';
import { App } from './App.js';
import { connectToHost } from './host.js';

/** Shown when the page is opened directly, or Azure DevOps never answered the SDK's handshake. */
function OutsideAzureDevOps(): JSX.Element {
  return (
    <main className="exalate-outside">
      <h1>Exalate for Azure DevOps</h1>
      <p role="alert">
        This page runs inside Azure DevOps. Open it from <strong>Organization settings → Extensions → Exalate</strong> in your organization
        (https://dev.azure.com/&lt;organization&gt;/_settings/).
      </p>
    </main>
  );
}

async function main(): Promise<void> {
  const root = document.getElementById('root')!;
  const host = await connectToHost();
  ReactDOM.render(
    host ? (
      <SurfaceContext.Provider value={{ background: SurfaceBackground.neutral }}>
        <App host={host} />
      </SurfaceContext.Provider>
    ) : (
      <OutsideAzureDevOps />
    ),
    root,
  );
}

void main();
