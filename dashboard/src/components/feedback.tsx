/** What a page says while it loads, when a call failed, when the gateway lacks an endpoint, and when there is nothing yet. */
import type { ComponentChildren } from "preact";
import { ApiFailure } from "../api/errors";
import { isMissingEndpoint } from "../api/client";

export function Loading({ what }: { what: string }) {
  return (
    <p class="loading" role="status">
      Loading {what}…
    </p>
  );
}

export function Problem({ error, retry }: { error: unknown; retry?: () => void }) {
  const message = error instanceof ApiFailure ? error.message : error instanceof Error ? error.message : String(error);
  return (
    <div class="notice error" role="alert">
      <p>{message}</p>
      {retry ? (
        <button type="button" class="secondary" onClick={retry}>
          Try again
        </button>
      ) : null}
    </div>
  );
}

/** The gateway answered 404 for an endpoint of the operations API: it runs a version without it. */
export function Unavailable({ feature, endpoint, children }: { feature: string; endpoint: string; children?: ComponentChildren }) {
  return (
    <div class="notice unavailable" role="status">
      <p>
        <strong>Not available on this gateway yet: {feature}.</strong> It needs <code>{endpoint}</code> of the operations API, which this
        gateway's version does not have.
      </p>
      {children}
    </div>
  );
}

/** A failure, or the "not available" state when it is a 404 of an endpoint this gateway lacks. */
export function LoadFailure({ error, retry, feature, endpoint }: { error: unknown; retry: () => void; feature: string; endpoint: string }) {
  return isMissingEndpoint(error) ? <Unavailable feature={feature} endpoint={endpoint} /> : <Problem error={error} retry={retry} />;
}

export function EmptyState({ title, children }: { title: string; children: ComponentChildren }) {
  return (
    <section class="empty" aria-label={title}>
      <h2>{title}</h2>
      {children}
    </section>
  );
}

/** A transient message after an action ("Destination paused."), announced politely. */
export function Flash({ message }: { message: string | null }) {
  return (
    <p class="flash" role="status" aria-live="polite">
      {message ?? ""}
    </p>
  );
}
