/**
 * Sign-in with the admin token (ADMIN_TOKEN). The token is checked against the gateway before it is kept
 * (GET /healthz with it: 401 when wrong), then kept in sessionStorage for this tab. The form never submits
 * itself — the CSP's form-action 'none' would refuse it anyway — so the token cannot end up in a URL.
 */
import { useEffect, useRef, useState } from "preact/hooks";
import { ApiFailure } from "../api/errors";
import { getHealth } from "../api/gateway";
import { signIn, signInNotice } from "../session";

export function SignIn() {
  const [value, setValue] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const input = useRef<HTMLInputElement>(null);
  useEffect(() => {
    document.title = "Sign in · okta-hooks-edge";
    input.current?.focus();
  }, []);

  const submit = async (e: Event) => {
    e.preventDefault();
    const candidate = value.trim();
    if (candidate === "") {
      setError("Enter the admin token.");
      input.current?.focus();
      return;
    }
    setBusy(true);
    setError(null);
    try {
      await getHealth(candidate);
      signIn(candidate);
    } catch (failure) {
      if (failure instanceof ApiFailure && failure.status === 503 && failure.code === "http_error") {
        // The token was accepted (a wrong one is a 401); D1 is down, which the overview shows.
        signIn(candidate);
        return;
      }
      setError(
        failure instanceof ApiFailure && failure.status === 401
          ? "The gateway refused this token. Use a value of the gateway's ADMIN_TOKEN."
          : failure instanceof Error
            ? failure.message
            : String(failure),
      );
      setBusy(false);
      input.current?.focus();
    }
  };

  return (
    <main id="main" class="sign-in">
      <form class="card" onSubmit={submit} noValidate aria-labelledby="sign-in-title">
        <h1 id="sign-in-title">Sign in to okta-hooks-edge</h1>
        <p class="hint">The dashboard of this gateway. It uses the admin API with the gateway's admin token.</p>
        {signInNotice.value ? (
          <p class="notice warning" role="alert">
            {signInNotice.value}
          </p>
        ) : null}
        <div class={`field${error ? " invalid" : ""}`}>
          <label for="admin-token">Admin token</label>
          <input
            ref={input}
            id="admin-token"
            name="admin-token"
            type="password"
            autoComplete="off"
            spellcheck={false}
            value={value}
            onInput={(e) => setValue(e.currentTarget.value)}
            aria-invalid={error ? "true" : undefined}
            aria-describedby={error ? "admin-token-hint admin-token-error" : "admin-token-hint"}
          />
          <p class="hint" id="admin-token-hint">
            A value of <code>ADMIN_TOKEN</code> (<code>wrangler secret put ADMIN_TOKEN</code>; locally in <code>.dev.vars</code>). It is kept in
            this browser tab only, until you sign out or close the tab.
          </p>
          {error ? (
            <p class="field-error" id="admin-token-error" role="alert">
              {error}
            </p>
          ) : null}
        </div>
        <button type="submit" disabled={busy}>
          {busy ? "Checking…" : "Sign in"}
        </button>
      </form>
    </main>
  );
}
