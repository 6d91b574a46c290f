// The one log line per request of the logging baselines (bench/bare-worker-logging.js, bench/bare-worker-d1.js):
// the fields the gateway's request line has (src/http/request-context.ts), with its in-Worker `ms` measured the same
// way. Sets the response's x-request-id, as the gateway does.
export function logRequest(request, response, started, extra = {}) {
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
      ...extra,
    }),
  );
  return response;
}
