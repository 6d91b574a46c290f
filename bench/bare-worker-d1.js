// The ingest reference of `npm run bench`: the least any Worker that stores every event of an Okta delivery exactly
// once, in one D1 round trip, must do — bench/bare-worker-logging.js plus that round trip. It parses the body,
// inserts each event's exact text keyed by its uuid (ON CONFLICT DO NOTHING: a redelivery stores nothing), answers
// 200 and logs one line with its in-Worker `ms`. No authentication, no validation, no batch, no outbox, no
// forwarding: what the gateway costs beyond it is the gateway's; what it costs beyond bench/bare-worker-logging.js
// is local D1's (under `wrangler dev` its SQLite runs in the same workerd as the Worker).
import { logRequest } from "./bare-log-line.js";

let ready;

export default {
  async fetch(request, env) {
    const started = Date.now();
    let response;
    let d1Ms;
    if (request.method === "POST") {
      const body = await request.json();
      const events = Array.isArray(body?.data?.events) ? body.data.events : [];
      const rows = JSON.stringify(events.map((e) => ({ u: String(e?.uuid), t: JSON.stringify(e) })));
      const d1Started = Date.now();
      ready ??= env.DB.prepare("CREATE TABLE IF NOT EXISTS events (uuid TEXT PRIMARY KEY, data TEXT NOT NULL) STRICT, WITHOUT ROWID").run();
      await ready;
      await env.DB.prepare(
        "INSERT INTO events (uuid, data) SELECT value ->> '$.u', value ->> '$.t' FROM json_each(?1) WHERE true ON CONFLICT (uuid) DO NOTHING",
      )
        .bind(rows)
        .run();
      d1Ms = Date.now() - d1Started;
      response = new Response(null, { status: 200 });
    } else {
      response = Response.json({ verification: "bench" });
    }
    return logRequest(request, response, started, { d1Ms });
  },
};
