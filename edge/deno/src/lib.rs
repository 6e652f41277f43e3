//! The vantage-sync edge function for Supabase Edge Functions: the runtime-free core
//! (`vantage-edge-core`) compiled to WebAssembly, with the Deno runtime's own `fetch`, clock,
//! `crypto.randomUUID()` and `console.log` plugged in.
//!
//! `index.ts` (next to this crate's `Cargo.toml`) is the function's entry point:
//!
//! ```ts
//! import { initSync, EdgeFunction } from "./vantage_edge_deno.js";
//! initSync({ module: Deno.readFileSync(new URL("./vantage_edge_deno_bg.wasm", import.meta.url)) });
//! const edge = new EdgeFunction(Deno.env.toObject());
//! Deno.serve((req) => edge.handle(req));
//! ```
//!
//! This crate only adapts, like `edge/server`: the core's [`serve()`] runs every request's course
//! (head checks, the body up to 64 KiB, the answer, the log line, webhook deliveries after the
//! answer). Here are the Fetch body it reads from (`body.rs`), `EdgeRuntime.waitUntil` that
//! keeps the deliveries alive, request ids from `crypto.randomUUID()`, the log line through
//! `console.log`, and the upstream timeout with `AbortSignal.timeout` (`upstream.rs`).
//!
//! Copies across the JavaScript/wasm boundary are kept to one per body and direction: the
//! request body arrives as one `ArrayBuffer` copied once into wasm memory, the answer leaves as
//! a view of wasm memory that the `Response` constructor copies once; JSON is never turned into
//! a JavaScript string or object on the way.

mod body;
mod clock;
mod convert;
mod js;
mod upstream;

use std::rc::Rc;

use vantage_edge_core::{
    Config, ConfigError, Deliveries, Edge, LogLine, Runtime, misconfigured, serve,
};
use wasm_bindgen::prelude::*;

pub use body::LimitedBody;
pub use clock::JsClock;
pub use upstream::{FetchUpstream, MAX_UPSTREAM_RESPONSE_BYTES};

/// The edge function as Deno runs it.
type DenoEdge = Edge<FetchUpstream, JsClock>;

/// The vantage-sync edge function, built once per isolate from its environment.
#[wasm_bindgen]
pub struct EdgeFunction {
    /// The function, or why its configuration is unusable (then every request is a 500 whose
    /// log line names the variable; Supabase would otherwise only show a boot error).
    state: Result<Rc<DenoEdge>, ConfigError>,
}

#[wasm_bindgen]
impl EdgeFunction {
    /// Reads and validates the configuration once, from an object of variable names to values
    /// (`Deno.env.toObject()`). Never throws: a bad configuration is reported by
    /// [`EdgeFunction::config_error`] and answered with 500 `internal` on every request.
    #[wasm_bindgen(constructor)]
    pub fn new(env: &js_sys::Object) -> Self {
        let config = Config::from_env(|name| {
            js_sys::Reflect::get(env, &JsValue::from_str(name))
                .ok()
                .and_then(|value| value.as_string())
        });
        let state = config.map(|config| {
            let upstream = FetchUpstream::new(config.upstream_timeout_ms);
            Rc::new(Edge::new(config, upstream, JsClock::new()))
        });
        Self { state }
    }

    /// The configuration problem, naming the variable (never its value), if there is one.
    #[wasm_bindgen(getter, js_name = configError)]
    pub fn config_error(&self) -> Option<String> {
        self.state.as_ref().err().map(ToString::to_string)
    }

    /// Answers one request (a `Promise<Response>` that never rejects for a request's sake) and
    /// prints its log line.
    #[wasm_bindgen(unchecked_return_type = "Promise<Response>")]
    pub fn handle(&self, request: web_sys::Request) -> js_sys::Promise {
        let state = self.state.clone();
        wasm_bindgen_futures::future_to_promise(async move {
            let response = match &state {
                Ok(edge) => {
                    let head = convert::request_head(&request);
                    serve(edge, head, body::RequestBody(&request), &DenoRuntime).await
                }
                Err(error) => {
                    let handled =
                        misconfigured(error, &request.method(), &DenoRuntime.request_id());
                    DenoRuntime.log(&handled.log);
                    handled.response
                }
            };
            convert::to_web_response(response)
        })
    }
}

/// Deno's globals: what the core needs of this runtime.
#[derive(Debug, Clone, Copy)]
struct DenoRuntime;

impl Runtime<Rc<DenoEdge>> for DenoRuntime {
    fn request_id(&self) -> String {
        js::random_uuid()
    }

    fn log(&self, line: &LogLine) {
        js::console_log(&line.to_json());
    }

    fn spawn(&self, work: Deliveries<Rc<DenoEdge>, Self>) {
        js::run_after_response(work.run());
    }
}
