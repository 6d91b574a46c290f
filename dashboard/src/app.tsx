/**
 * The dashboard: sign-in until there is a token, then the shell (skip link, header, navigation) around the page
 * the URL's fragment names.
 */
import type { ComponentChildren } from "preact";
import { href, route, sectionOf, type Route } from "./router";
import { signOut, token } from "./session";
import { DeadLetters } from "./pages/dead-letters";
import { Destinations } from "./pages/destinations";
import { DestinationEditor } from "./pages/destination-editor";
import { EventDetailPage } from "./pages/event-detail";
import { Events } from "./pages/events";
import { InlineHooks } from "./pages/inline-hooks";
import { LookupTable } from "./pages/lookup-table";
import { Overview } from "./pages/overview";
import { RuleEditor } from "./pages/rule-editor";
import { SignIn } from "./pages/sign-in";
import { Page } from "./components/page";

const NAVIGATION = [
  ["overview", "Overview"],
  ["events", "Events"],
  ["destinations", "Destinations"],
  ["inline-hooks", "Inline hooks"],
] as const;

function PageFor({ r }: { r: Route }) {
  switch (r.page) {
    case "overview":
      return <Overview />;
    case "events":
      return <Events params={r.params} />;
    case "event":
      return <EventDetailPage uuid={r.uuid} />;
    case "destinations":
      return <Destinations />;
    case "destination-new":
      return <DestinationEditor />;
    case "destination-edit":
      return <DestinationEditor id={r.id} />;
    case "dead-letters":
      return <DeadLetters params={r.params} />;
    case "inline-hooks":
      return <InlineHooks params={r.params} />;
    case "rule-new":
      return <RuleEditor params={r.params} />;
    case "rule-edit":
      return <RuleEditor id={r.id} />;
    case "lookup-table":
      return <LookupTable table={r.table} />;
    case "not-found":
      return (
        <Page title="No such page">
          <p>
            There is no page at <code>#/{r.path}</code>. <a href={href("overview")}>Go to the overview.</a>
          </p>
        </Page>
      );
  }
}

function Shell({ children }: { children: ComponentChildren }) {
  const section = sectionOf(route.value);
  return (
    <>
      <a
        class="skip-link"
        href="#main"
        onClick={(e) => {
          e.preventDefault(); // the fragment addresses pages; move focus instead
          document.getElementById("main")?.focus();
        }}
      >
        Skip to content
      </a>
      <header class="top">
        <a class="brand" href={href("overview")}>
          okta-hooks-edge
        </a>
        <span class="host" title="This gateway">
          {location.host}
        </span>
        <button type="button" class="secondary sign-out" onClick={() => signOut("You signed out. The token was removed from this tab.")}>
          Sign out
        </button>
      </header>
      <nav class="sections" aria-label="Sections">
        <ul>
          {NAVIGATION.map(([id, label]) => (
            <li key={id}>
              <a href={href(id)} aria-current={section === id ? "page" : undefined}>
                {label}
              </a>
            </li>
          ))}
        </ul>
      </nav>
      <main id="main" tabIndex={-1}>
        {children}
      </main>
    </>
  );
}

export function App() {
  if (!token.value) return <SignIn />;
  return (
    <Shell>
      <PageFor key={location.hash} r={route.value} />
    </Shell>
  );
}
