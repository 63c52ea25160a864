import { useState } from "preact/hooks";
import type { Session } from "./api";

/** Asks for the API key (and the tenant, for services without auth) once; kept for the tab's session. */
export function KeyDialog(props: {
  session: Session;
  reason: string;
  onSave: (session: Session) => void;
  onCancel: () => void;
}) {
  const [apiKey, setApiKey] = useState(props.session.apiKey);
  const [tenant, setTenant] = useState(props.session.tenant);
  return (
    <div class="overlay">
      <form
        class="dialog"
        aria-label="API key"
        onSubmit={(e) => {
          e.preventDefault();
          props.onSave({ apiKey: apiKey.trim(), tenant: tenant.trim() });
        }}
      >
        <h2>API key</h2>
        {props.reason && <p class="error">{props.reason}</p>}
        <p class="hint">
          Sent as <code>Authorization: Bearer …</code> on every request and kept for this browser tab only.
        </p>
        <label>
          key
          <input
            name="apiKey"
            type="password"
            autocomplete="off"
            placeholder="sift_…"
            value={apiKey}
            onInput={(e) => setApiKey(e.currentTarget.value)}
          />
        </label>
        <label>
          tenant <span class="hint">(without auth; a key carries its own)</span>
          <input
            name="tenant"
            placeholder="default"
            value={tenant}
            onInput={(e) => setTenant(e.currentTarget.value)}
          />
        </label>
        <div class="actions">
          <button type="submit">Save</button>
          <button type="button" onClick={props.onCancel}>
            Cancel
          </button>
        </div>
      </form>
    </div>
  );
}
