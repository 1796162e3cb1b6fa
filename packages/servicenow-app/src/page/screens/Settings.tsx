import { NODE_TYPE_LABELS, GUIDE, capitalize, credentialSourceText, type SettingsFlow, type TrackerWords } from '@exalate/wizard-core';
import { Banner, Button, Field, Notice, Working } from '../components.js';
import { useStore } from '../use-store.js';

/**
 * Settings in ServiceNow: the application is paired with its node by a one-time code (the node's
 * URL and the instance's key come with it, kept by the application), and the node's ServiceNow
 * credential can be replaced.
 */
export function SettingsScreen(props: { flow: SettingsFlow; words: TrackerWords }) {
  const { flow, words } = props;
  const s = useStore(flow);
  return (
    <section className="exalate-screen" aria-labelledby="settings-heading">
      <h1 id="settings-heading">Settings</h1>
      {s.loading ? <Working label="Loading settings…" size="medium" /> : null}
      <Banner error={s.banner} />
      <Notice text={s.notice} />

      <section className="now-card" aria-labelledby="pairing-heading" data-testid="pairing">
        <h2 id="pairing-heading">Exalate node</h2>
        {s.saved ? (
          <p data-testid="paired-with">
            This instance is paired with the Exalate node at <strong>{s.saved}</strong>
            {s.node ? ` (${NODE_TYPE_LABELS[s.node.nodeType]} node for ${s.node.trackerUrl}, Exalate ${s.node.version})` : ''}.
          </p>
        ) : !s.loading ? (
          <p>
            Exalate runs on a node next to this instance. Ask its operator for a pairing code (the node makes one with POST
            /api/v1/settings/tracker-app/pairing-code) and paste it here.
          </p>
        ) : null}
        <form
          className="exalate-form"
          aria-busy={s.busy}
          noValidate
          onSubmit={(e) => {
            e.preventDefault();
            void flow.pair();
          }}
        >
          <Field
            id="pairing-code"
            label={s.saved ? 'New pairing code (to pair with another node, or again)' : 'Pairing code'}
            value={s.pairingCode}
            error={s.pairingError ?? undefined}
            onChange={(v) => flow.setPairingCode(v)}
            placeholder="EXPAIR1.…"
            hint="It works once, for 30 minutes. The instance trades it with the node for the key it forwards your requests with; the key stays in the instance and never reaches the browser."
            monospace
            required={!s.saved}
            autoFocus={!s.saved}
          />
          <div className="exalate-actions">
            <Button appearance="primary" type="submit" disabled={s.busy || s.loading}>
              Pair
            </Button>
            {s.busy ? <Working label="Pairing with the node" /> : null}
          </div>
        </form>
      </section>

      {s.saved && s.nodeSettings ? (
        <form
          className="now-card exalate-form"
          aria-labelledby="token-heading"
          noValidate
          onSubmit={(e) => {
            e.preventDefault();
            void flow.saveToken();
          }}
        >
          <h2 id="token-heading">{capitalize(words.credential)}</h2>
          <p className="exalate-hint" data-testid="token-source">
            {credentialSourceText(s.nodeSettings, words)}
          </p>
          {s.nodeSettings.tracker.credential.problem ? (
            <p className="now-field-error" role="alert">
              {s.nodeSettings.tracker.credential.problem}
            </p>
          ) : null}
          <Field
            id="node-token"
            label={`New ${words.credential}`}
            value={s.token}
            error={s.tokenError ?? undefined}
            onChange={(v) => flow.setToken(v)}
            hint="The node checks it with ServiceNow before storing it."
            password
          />
          <div className="exalate-actions">
            <Button type="submit" disabled={s.busy}>
              Save {words.credential}
            </Button>
          </div>
        </form>
      ) : null}
      <p className="exalate-hint">{GUIDE.generalSettings}: the same settings every Exalate frontend shows.</p>
    </section>
  );
}
