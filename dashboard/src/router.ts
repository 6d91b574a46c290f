/**
 * Pages are addressed by the URL's fragment (#/destinations/dst_…): the Worker serves one page at /admin/, and the
 * fragment never reaches the server or its logs. Nothing secret is ever put in it.
 */
import { signal } from "@preact/signals";

export type Route =
  | { page: "overview" }
  | { page: "events"; params: URLSearchParams }
  | { page: "event"; uuid: string }
  | { page: "destinations" }
  | { page: "destination-new" }
  | { page: "destination-edit"; id: string }
  | { page: "dead-letters"; params: URLSearchParams }
  | { page: "inline-hooks"; params: URLSearchParams }
  | { page: "rule-new"; params: URLSearchParams }
  | { page: "rule-edit"; id: string }
  | { page: "lookup-table"; table: string }
  | { page: "not-found"; path: string };

export function parseRoute(hash: string): Route {
  const [path = "", search = ""] = hash.replace(/^#/, "").split("?", 2);
  const params = new URLSearchParams(search);
  const parts = path.split("/").filter(Boolean).map((p) => {
    try {
      return decodeURIComponent(p);
    } catch {
      return p;
    }
  });
  const [area, id, more] = parts;
  if (parts.length === 0 || (area === "overview" && parts.length === 1)) return { page: "overview" };
  if (area === "events" && parts.length === 1) return { page: "events", params };
  if (area === "events" && id && parts.length === 2) return { page: "event", uuid: id };
  if (area === "destinations" && parts.length === 1) return { page: "destinations" };
  if (area === "destinations" && id === "new" && parts.length === 2) return { page: "destination-new" };
  if (area === "destinations" && id && parts.length === 2) return { page: "destination-edit", id };
  if (area === "dead-letters" && parts.length === 1) return { page: "dead-letters", params };
  if (area === "inline-hooks" && parts.length === 1) return { page: "inline-hooks", params };
  if (area === "inline-hooks" && id === "rules" && more === "new" && parts.length === 3) return { page: "rule-new", params };
  if (area === "inline-hooks" && id === "rules" && more && parts.length === 3) return { page: "rule-edit", id: more };
  if (area === "inline-hooks" && id === "lookup-tables" && more && parts.length === 3) return { page: "lookup-table", table: more };
  return { page: "not-found", path };
}

export const route = signal<Route>(parseRoute(location.hash));

window.addEventListener("hashchange", () => {
  route.value = parseRoute(location.hash);
});

/** The fragment of a page, e.g. href("destinations", id). */
export function href(...parts: string[]): string {
  return `#/${parts.map(encodeURIComponent).join("/")}`;
}

export function navigate(to: string): void {
  if (location.hash === to) route.value = parseRoute(to);
  else location.hash = to;
}

/** Which navigation entry a route belongs to. */
export function sectionOf(r: Route): "overview" | "events" | "destinations" | "inline-hooks" | null {
  switch (r.page) {
    case "overview":
      return "overview";
    case "events":
    case "event":
      return "events";
    case "destinations":
    case "destination-new":
    case "destination-edit":
    case "dead-letters":
      return "destinations";
    case "inline-hooks":
    case "rule-new":
    case "rule-edit":
    case "lookup-table":
      return "inline-hooks";
    default:
      return null;
  }
}
