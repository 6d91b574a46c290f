// A reference for bench/inline-ab.mjs: bench/bare-worker.js plus the one thing the gateway must do on every request
// that a bare Worker does not, write one structured log line (src/http/request-context.ts), so the cost of the
// platform's logging can be told apart from the gateway's own. Under `wrangler dev` each request that logs costs
// about as much CPU again as the bare Worker's whole request (workerd writes the line, wrangler's Node process
// relays it), whatever the line says.
import { logRequest } from "./bare-log-line.js";

export default {
  async fetch(request) {
    const started = Date.now();
    let response;
    if (request.method === "POST") {
      await request.arrayBuffer();
      response = new Response(null, { status: 204 });
    } else {
      response = Response.json({ verification: "bench" });
    }
    return logRequest(request, response, started);
  },
};
