// vantage-sync: the Supabase Edge Function that is the only writer of sync state.
//
// The handler is Rust (edge/core) compiled to WebAssembly; `cargo xtask bundle supabase` puts
// this file next to the wasm-bindgen glue (`--target web`) and the module in
// target/supabase/functions/vantage-sync/.
//
// The module is read from the bundled file and instantiated synchronously with `initSync`:
// Supabase's runtime cannot `fetch()` a file:// URL, which is what the glue's default loader
// (and wasm-bindgen's `--target deno`) would do. config.toml lists the .wasm as a static file
// so that `supabase functions deploy` ships it.
import { EdgeFunction, initSync } from "./vantage_edge_deno.js";

initSync({
  module: Deno.readFileSync(
    new URL("./vantage_edge_deno_bg.wasm", import.meta.url),
  ),
});

// Configuration is read and checked once per isolate. A problem is logged here with the
// variable's name, and every request then gets 500 `internal` (never a crash loop).
const edge = new EdgeFunction(Deno.env.toObject());
if (edge.configError !== undefined) {
  console.error(
    JSON.stringify({ msg: "configuration error", error: edge.configError }),
  );
}

const handler = (request: Request): Promise<Response> => edge.handle(request);

// On Supabase the platform owns the listener. Locally (tests, benchmarks) VANTAGE_EDGE_PORT
// picks a loopback port (0: any free one); the chosen address is printed as a JSON line.
const port = Deno.env.get("VANTAGE_EDGE_PORT");
if (port === undefined) {
  Deno.serve(handler);
} else {
  Deno.serve({
    hostname: "127.0.0.1",
    port: Number(port),
    onListen: ({ hostname, port }) =>
      console.log(
        JSON.stringify({ msg: "listening", addr: `${hostname}:${port}` }),
      ),
  }, handler);
}
