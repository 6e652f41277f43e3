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
//! This crate only adapts, like `edge/server`: it reads the body (at most 64 KiB, refusing
//! larger ones before or while reading them), enforces the upstream timeout with
//! `AbortSignal.timeout`, makes request ids, and prints the core's log line with `console.log`.
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

use vantage_edge_core::{Config, ConfigError, Edge, Handled, misconfigured};
use wasm_bindgen::prelude::*;

pub use body::{BodyError, LimitedBody};
pub use clock::JsClock;
pub use upstream::{FetchUpstream, MAX_UPSTREAM_RESPONSE_BYTES};

/// The edge function as Deno runs it.
type DenoEdge = Edge<FetchUpstream, JsClock>;

/// The vantage-sync edge function, built once per isolate from its environment.
#[wasm_bindgen]
pub struct EdgeFunction {
    /// The function, or why its configuration is unusable (then every request is a 500 whose
    /// log line names the variable; Supabase would otherwise only show a boot error).
    state: Rc<Result<DenoEdge, ConfigError>>,
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
            Edge::new(config, upstream, JsClock::new())
        });
        Self {
            state: Rc::new(state),
        }
    }

    /// The configuration problem, naming the variable (never its value), if there is one.
    #[wasm_bindgen(getter, js_name = configError)]
    pub fn config_error(&self) -> Option<String> {
        self.state.as_ref().as_ref().err().map(ToString::to_string)
    }

    /// Answers one request (a `Promise<Response>` that never rejects for a request's sake) and
    /// prints its log line.
    #[wasm_bindgen(unchecked_return_type = "Promise<Response>")]
    pub fn handle(&self, request: web_sys::Request) -> js_sys::Promise {
        let state = Rc::clone(&self.state);
        wasm_bindgen_futures::future_to_promise(async move {
            let handled = match state.as_ref() {
                Ok(edge) => answer(edge, &request).await,
                Err(error) => misconfigured(error, &request.method(), &js::random_uuid()),
            };
            js::console_log(&handled.log.to_json());
            if let Some(resource) = handled.deliveries_pending {
                let state = Rc::clone(&state);
                let request_id = handled.log.request_id.clone();
                js::run_after_response(async move {
                    if let Ok(edge) = state.as_ref() {
                        let line = edge.deliver_webhooks(&request_id, &resource).await;
                        js::console_log(&line.to_json());
                    }
                });
            }
            convert::to_web_response(handled.response)
        })
    }
}

/// The core's answer to `request`: head checks first, then the body, read at most up to the
/// limit.
async fn answer(edge: &DenoEdge, request: &web_sys::Request) -> Handled {
    let ctx = edge.begin(js::random_uuid());
    let head = convert::request_head(request);
    if let Some(early) = edge.check_head(&head, &ctx) {
        return early;
    }
    match body::read(request, &head.headers).await {
        Ok(bytes) => {
            edge.handle(http::Request::from_parts(head, bytes), &ctx)
                .await
        }
        Err(BodyError::TooLarge) => edge.payload_too_large(&head, &ctx),
        Err(BodyError::Unreadable) => edge.unreadable_body(&head, &ctx),
    }
}
