// A reference for bench/inline-ab.mjs: bench/bare-worker.js plus the one thing the gateway must do on every request
// that a bare Worker does not, write one structured log line (src/http/request-context.ts), so the cost of the
// platform's logging can be told apart from the gateway's own. Under `wrangler dev` each request that logs costs
// about as much CPU again as the bare Worker's whole request (workerd writes the line, wrangler's Node process
// relays it), whatever the line says.
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
    const requestId = crypto.randomUUID();
    response.headers.set("x-request-id", requestId);
    console.log(
      JSON.stringify({
        level: "info",
        msg: "request",
        requestId,
        method: request.method,
        route: new URL(request.url).pathname,
        status: response.status,
        ms: Date.now() - started,
        oktaRequestId: request.headers.get("x-okta-request-id") ?? undefined,
      }),
    );
    return response;
  },
};
