/** What to do first: point Okta's event hook (and inline hooks) at this gateway, and verify it. */
export function ConnectOkta() {
  const events = `${location.origin}/hooks/events`;
  return (
    <section class="card connect" aria-labelledby="connect-title">
      <h2 id="connect-title">Point Okta at this gateway</h2>
      <ol>
        <li>
          In the Okta Admin Console, open <strong>Workflow → Event Hooks</strong> and create an event hook with the URL <code class="copyable">{events}</code>.
        </li>
        <li>
          Authentication field <code>authorization</code> (or the header named by <code>EVENT_HOOK_AUTH_HEADER</code>), secret: a value of{" "}
          <code>EVENT_HOOK_SECRETS</code>.
        </li>
        <li>Subscribe to the event types you want, save, then choose <strong>Verify</strong>: Okta sends a one-time GET with a challenge, which the gateway echoes.</li>
        <li>Events appear here as Okta delivers them; create a destination to forward them.</li>
      </ol>
      <p class="hint">
        Inline hooks: <code>{`${location.origin}/hooks/inline/<type>`}</code> (token, registration, password-import, saml, user-import, telephony) with a value
        of <code>INLINE_HOOK_SECRETS</code>. The repository's docs/okta-setup.md walks through every step.
      </p>
    </section>
  );
}
