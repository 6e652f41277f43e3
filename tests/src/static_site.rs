//! A folder served as a CDN serves the widget's `dist/` (docs/deploy.md, "The widget on a
//! CDN"): the precompressed `.br` or `.gz` file beside each file when the browser's
//! `Accept-Encoding` asks for it (tower-http's `ServeDir`), files with a content hash in their
//! name (and `snippets/`) `immutable` for a year, everything else (`index.html`,
//! `config.json`, the stable loader) `no-cache`, all with `Vary: accept-encoding`. The benchmark's pages and the stack's widget
//! are served by it (`vantage-static`).

use std::net::SocketAddr;
use std::path::Path;

use axum::Router;
use axum::extract::Request;
use axum::http::HeaderValue;
use axum::http::header::{CACHE_CONTROL, VARY};
use axum::middleware::{self, Next};
use axum::response::Response;
use tower_http::services::ServeDir;

use crate::error::{Error, Result};

/// Files whose content never changes under their name.
pub const IMMUTABLE: &str = "public, max-age=31536000, immutable";

/// Files that name the hashed ones or hold settings: revalidated on every use.
pub const NO_CACHE: &str = "no-cache";

/// The hex digits of a content hash in a file name, as Trunk writes them (and the benchmark's
/// React page, named after the same fashion).
const HASH_DIGITS: usize = 16;

/// The `Cache-Control` of the file at URL path `path`.
pub fn cache_control(path: &str) -> &'static str {
    let name = path.rsplit('/').next().unwrap_or(path);
    let stem = name.split('.').next().unwrap_or(name);
    // `vantage-sync-widget-0123456789abcdef_bg.wasm`, `widget-0123456789abcdef.css`.
    let hashed = stem
        .split(['-', '_'])
        .skip(1)
        .any(|part| part.len() == HASH_DIGITS && part.bytes().all(|b| b.is_ascii_hexdigit()));
    if hashed || path.split('/').any(|segment| segment == "snippets") {
        IMMUTABLE
    } else {
        NO_CACHE
    }
}

/// Adds the `Cache-Control` of the requested path to a successful answer.
async fn with_cache_control(request: Request, next: Next) -> Response {
    let policy = cache_control(request.uri().path());
    let mut response = next.run(request).await;
    if response.status().is_success() || response.status().as_u16() == 304 {
        let headers = response.headers_mut();
        headers.insert(CACHE_CONTROL, HeaderValue::from_static(policy));
        // The same URL answers brotli, gzip or plain by the request: caches must key on it.
        headers.insert(VARY, HeaderValue::from_static("accept-encoding"));
    }
    response
}

/// The router serving `root` as a CDN would.
pub fn router(root: &Path) -> Router {
    let files = ServeDir::new(root).precompressed_br().precompressed_gzip();
    Router::new()
        .fallback_service(files)
        .layer(middleware::from_fn(with_cache_control))
}

/// Serves `root` on `addr` (loopback) until the process ends.
pub async fn serve(root: &Path, addr: SocketAddr) -> Result<()> {
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|source| Error::Net {
            what: format!("binding {addr}"),
            source,
        })?;
    axum::serve(listener, router(root))
        .await
        .map_err(|source| Error::Net {
            what: format!("serving {}", root.display()),
            source,
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashed_files_and_snippets_are_immutable() {
        for path in [
            "/vantage-sync-widget-4c1f0e9a7b2d3e58_bg.wasm",
            "/vantage-sync-widget-4c1f0e9a7b2d3e58.js",
            "/widget-9f8e7d6c5b4a3921.css",
            "/react/main-0a1b2c3d4e5f6789.js",
            "/snippets/leptos-1/inline0.js",
        ] {
            assert_eq!(cache_control(path), IMMUTABLE, "{path}");
        }
    }

    #[test]
    fn pages_settings_and_the_loader_are_revalidated() {
        for path in [
            "/",
            "/index.html",
            "/config.json",
            "/vantage-sync-status.js",
            "/floor/index.html",
            "/vantage-sync-widget.js",
            "/main-0a1b2c3d.js",
        ] {
            assert_eq!(cache_control(path), NO_CACHE, "{path}");
        }
    }
}
