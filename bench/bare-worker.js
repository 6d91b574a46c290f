// The baseline of `npm run bench`: a Worker that does nothing but read the request body and answer a constant, run
// by the same wrangler and workerd as the gateway, so the gateway's figures can be quoted as a ratio of it.
export default {
  async fetch(request) {
    if (request.method === "POST") {
      await request.arrayBuffer();
      return new Response(null, { status: 204 });
    }
    return Response.json({ verification: "bench" });
  },
};
