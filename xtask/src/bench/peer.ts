// The benchmark's peer: the edge function a Supabase user would otherwise write by hand in
// TypeScript with supabase-js, serving the same `start` and `complete` routes as vantage-sync
// (writer token checked by its SHA-256, the RPCs called with the service-role key). It does
// less than the Rust build (no field-by-field validation, no error mapping beyond conflicts,
// no log line), which favours the peer. Started by `cargo xtask bench edge` only.
import { createClient } from "npm:@supabase/supabase-js@2.119.0";

const env = (name: string): string => {
  const value = Deno.env.get(name);
  if (value === undefined) throw new Error(`${name} is not set`);
  return value;
};

// supabase-js calls `${SUPABASE_URL}/rest/v1/...`; the local stack serves PostgREST at its
// root, so the peer's fetch drops that prefix (a string replace per call).
const restAtRoot: typeof fetch = (input, init) =>
  fetch(String(input).replace("/rest/v1/", "/"), init);

const supabase = createClient(env("SUPABASE_URL"), env("SUPABASE_SERVICE_ROLE_KEY"), {
  auth: { persistSession: false, autoRefreshToken: false },
  global: { fetch: restAtRoot },
});
const writerHash = env("VANTAGE_WRITER_TOKEN_SHA256");

const json = (status: number, body: unknown): Response =>
  new Response(JSON.stringify(body), {
    status,
    headers: { "content-type": "application/json" },
  });

const hex = (bytes: ArrayBuffer): string =>
  Array.from(new Uint8Array(bytes), (b) => b.toString(16).padStart(2, "0")).join("");

const authorized = async (request: Request): Promise<boolean> => {
  const header = request.headers.get("authorization") ?? "";
  if (!header.startsWith("Bearer ")) return false;
  const digest = await crypto.subtle.digest(
    "SHA-256",
    new TextEncoder().encode(header.slice(7)),
  );
  return hex(digest) === writerHash;
};

const failure = (error: { code?: string; message: string }): Response =>
  error.code === "PT409"
    ? json(409, { error: { code: "conflict", message: error.message } })
    : json(500, { error: { code: "internal", message: "upstream error" } });

Deno.serve({
  hostname: "127.0.0.1",
  port: Number(env("VANTAGE_EDGE_PORT")),
  onListen: ({ hostname, port }) =>
    console.log(JSON.stringify({ msg: "listening", addr: `${hostname}:${port}` })),
}, async (request) => {
  const route = new URL(request.url).pathname.split("/").pop();
  if (request.method === "GET" && route === "health") {
    return (await authorized(request))
      ? json(200, { status: "ok" })
      : json(401, { error: { code: "unauthorized", message: "bad token" } });
  }
  if (request.method !== "POST") return json(405, { error: { code: "method", message: "POST" } });
  if (!(await authorized(request))) {
    return json(401, { error: { code: "unauthorized", message: "bad token" } });
  }
  const body = await request.json();
  if (route === "start") {
    const { data, error } = await supabase.rpc("start_vantage_sync", {
      p_resource: body.resource,
    });
    if (error) return failure(error);
    return json(200, {
      run_id: data,
      resource: body.resource,
      started_at: new Date().toISOString(),
    });
  }
  if (route === "complete") {
    const { error } = await supabase.rpc("complete_vantage_sync", {
      p_resource: body.resource,
      p_run_id: body.run_id ?? null,
      p_records_synced: body.records_synced,
      p_records_created: body.records_created,
      p_records_updated: body.records_updated,
    });
    if (error) return failure(error);
    return json(200, { resource: body.resource, run_id: body.run_id });
  }
  return json(404, { error: { code: "not_found", message: "no such route" } });
});
