//! The function's routes. Supabase mounts a function at `/functions/v1/<name>` and hands it
//! the path from `/<name>` on, so both prefixes are accepted.

use http::Method;

use crate::auth::Accepts;
use crate::error::EdgeError;

/// The path prefixes the function answers under.
pub const PREFIXES: [&str; 2] = ["/functions/v1/vantage-sync/", "/vantage-sync/"];

/// One route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Route {
    /// `POST start`.
    Start,
    /// `POST complete`.
    Complete,
    /// `POST fail`.
    Fail,
    /// `POST progress`: a running job's heartbeat, with the records synced so far.
    Progress,
    /// `POST abort`.
    Abort,
    /// `GET health`.
    Health,
    /// `POST sweep`: fail stuck runs, queue stale events, deliver due webhooks (for a cron).
    Sweep,
    /// `GET metrics`: Prometheus's scrape (writer or metrics token; not for browsers).
    Metrics,
}

/// What a method and path resolve to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resolved {
    /// Call the route.
    Call(Route),
    /// A CORS preflight (`OPTIONS`) of a browser route.
    Preflight(Route),
}

impl Route {
    /// Every route.
    pub const ALL: [Self; 8] = [
        Self::Start,
        Self::Complete,
        Self::Fail,
        Self::Progress,
        Self::Abort,
        Self::Health,
        Self::Sweep,
        Self::Metrics,
    ];

    /// The route's path segment and log name.
    pub fn name(self) -> &'static str {
        match self {
            Self::Start => "start",
            Self::Complete => "complete",
            Self::Fail => "fail",
            Self::Progress => "progress",
            Self::Abort => "abort",
            Self::Health => "health",
            Self::Sweep => "sweep",
            Self::Metrics => "metrics",
        }
    }

    /// The method that calls it.
    pub fn method(self) -> Method {
        match self {
            Self::Health | Self::Metrics => Method::GET,
            _ => Method::POST,
        }
    }

    /// Whether browsers may call it (CORS): only `abort` and `health`.
    pub fn is_browser_route(self) -> bool {
        matches!(self, Self::Abort | Self::Health)
    }

    /// The `Allow` header of the route.
    pub fn allow(self) -> &'static str {
        match self {
            Self::Health => "GET, OPTIONS",
            Self::Abort => "POST, OPTIONS",
            Self::Metrics => "GET",
            _ => "POST",
        }
    }

    /// Which credentials it takes.
    pub fn accepts(self) -> Accepts {
        match self {
            Self::Start | Self::Complete | Self::Fail | Self::Progress | Self::Sweep => {
                Accepts::Writer
            }
            Self::Abort => Accepts::User,
            Self::Health => Accepts::WriterOrUser,
            Self::Metrics => Accepts::WriterOrMetrics,
        }
    }

    /// Whether it takes a JSON body.
    pub fn has_body(self) -> bool {
        !matches!(self, Self::Health | Self::Sweep | Self::Metrics)
    }
}

/// The route at `path` (a trailing slash is fine), if any.
pub fn route_at(path: &str) -> Option<Route> {
    let rest = PREFIXES
        .iter()
        .find_map(|prefix| path.strip_prefix(prefix))?;
    let name = rest.strip_suffix('/').unwrap_or(rest);
    Route::ALL.into_iter().find(|r| r.name() == name)
}

/// The 404 of a path with no route: every route of [`Route::ALL`] by method, in words.
fn not_found() -> EdgeError {
    let named = |method: Method| {
        let names: Vec<&str> = Route::ALL
            .into_iter()
            .filter(|route| route.method() == method)
            .map(Route::name)
            .collect();
        names.join(", ")
    };
    EdgeError::NotFound {
        prefix: PREFIXES[0],
        routes: format!(
            "POST {} and GET {}",
            named(Method::POST),
            named(Method::GET)
        ),
    }
}

/// Resolves a request: the route to call, a preflight, or 404/405.
pub fn resolve(method: &Method, path: &str) -> Result<Resolved, EdgeError> {
    let route = route_at(path).ok_or_else(not_found)?;
    if *method == route.method() {
        Ok(Resolved::Call(route))
    } else if *method == Method::OPTIONS && route.is_browser_route() {
        Ok(Resolved::Preflight(route))
    } else {
        Err(EdgeError::MethodNotAllowed {
            allow: route.allow(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_prefixes_and_a_trailing_slash_resolve() {
        for path in [
            "/functions/v1/vantage-sync/start",
            "/vantage-sync/start",
            "/vantage-sync/start/",
        ] {
            assert_eq!(
                resolve(&Method::POST, path),
                Ok(Resolved::Call(Route::Start)),
                "{path}"
            );
        }
        assert_eq!(
            resolve(&Method::GET, "/functions/v1/vantage-sync/health"),
            Ok(Resolved::Call(Route::Health))
        );
    }

    #[test]
    fn unknown_paths_are_404() {
        for path in [
            "/",
            "/functions/v1/vantage-sync",
            "/functions/v1/vantage-sync/",
            "/functions/v1/vantage-sync/starts",
            "/functions/v1/other/start",
            "/functions/v1/vantage-sync/start/x",
            "/functions/v1/vantage-sync//start",
        ] {
            assert!(
                matches!(
                    resolve(&Method::POST, path),
                    Err(EdgeError::NotFound { .. })
                ),
                "{path}"
            );
        }
        assert_eq!(
            not_found().to_string(),
            "no such route; the routes under /functions/v1/vantage-sync/ are POST start, complete, fail, progress, abort, sweep and GET health, metrics"
        );
    }

    #[test]
    fn wrong_methods_are_405_with_allow() {
        assert_eq!(
            resolve(&Method::GET, "/vantage-sync/start"),
            Err(EdgeError::MethodNotAllowed { allow: "POST" })
        );
        assert_eq!(
            resolve(&Method::POST, "/vantage-sync/health"),
            Err(EdgeError::MethodNotAllowed {
                allow: "GET, OPTIONS"
            })
        );
    }

    #[test]
    fn preflights_only_on_browser_routes() {
        assert_eq!(
            resolve(&Method::OPTIONS, "/vantage-sync/abort"),
            Ok(Resolved::Preflight(Route::Abort))
        );
        assert_eq!(
            resolve(&Method::OPTIONS, "/vantage-sync/health"),
            Ok(Resolved::Preflight(Route::Health))
        );
        for etl in ["start", "complete", "fail", "progress", "metrics"] {
            assert_eq!(
                resolve(&Method::OPTIONS, &format!("/vantage-sync/{etl}")),
                Err(EdgeError::MethodNotAllowed {
                    allow: if etl == "metrics" { "GET" } else { "POST" }
                })
            );
        }
    }

    #[test]
    fn progress_is_a_post_with_a_body_for_writer_tokens_only() {
        assert_eq!(
            resolve(&Method::POST, "/functions/v1/vantage-sync/progress"),
            Ok(Resolved::Call(Route::Progress))
        );
        assert_eq!(
            resolve(&Method::GET, "/vantage-sync/progress"),
            Err(EdgeError::MethodNotAllowed { allow: "POST" })
        );
        assert!(!Route::Progress.is_browser_route());
        assert!(Route::Progress.has_body());
        assert_eq!(Route::Progress.accepts(), Accepts::Writer);
    }

    #[test]
    fn metrics_is_a_get_without_a_body_for_writer_or_metrics_tokens() {
        assert_eq!(
            resolve(&Method::GET, "/functions/v1/vantage-sync/metrics"),
            Ok(Resolved::Call(Route::Metrics))
        );
        assert_eq!(
            resolve(&Method::POST, "/vantage-sync/metrics"),
            Err(EdgeError::MethodNotAllowed { allow: "GET" })
        );
        assert!(!Route::Metrics.is_browser_route());
        assert!(!Route::Metrics.has_body());
        assert_eq!(Route::Metrics.accepts(), Accepts::WriterOrMetrics);
    }
}
