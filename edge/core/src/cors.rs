//! CORS for the two routes a browser calls (`abort` from the widget, `health`): the allowed
//! origins come from `VANTAGE_CORS_ORIGINS`. The ETL routes never answer preflights, so a web
//! page can never make a browser send a writer token to them.

use http::header::{
    ACCESS_CONTROL_ALLOW_HEADERS, ACCESS_CONTROL_ALLOW_METHODS, ACCESS_CONTROL_ALLOW_ORIGIN,
    ACCESS_CONTROL_EXPOSE_HEADERS, ACCESS_CONTROL_MAX_AGE, HeaderValue, ORIGIN, VARY,
};
use http::{HeaderMap, Method};

/// Request headers a browser may send (supabase-js sends `apikey` and `x-client-info`).
const ALLOW_HEADERS: &str = "authorization, content-type, apikey, x-client-info";

/// Which origins may call from a browser.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum CorsOrigins {
    /// None (the default): browsers cannot call at all.
    #[default]
    None,
    /// Any origin (`*`): fine for tokens in headers, which browsers never send by themselves.
    Any,
    /// These exact origins (`https://admin.example.com`).
    List(Vec<String>),
}

impl CorsOrigins {
    /// Parses `*` or a comma-separated list of `scheme://host[:port]` origins.
    pub fn parse(list: &str) -> Result<Self, String> {
        if list.trim() == "*" {
            return Ok(Self::Any);
        }
        let mut origins = Vec::new();
        for entry in list.split(',').map(str::trim).filter(|e| !e.is_empty()) {
            let entry = entry.trim_end_matches('/');
            let valid = entry.split_once("://").is_some_and(|(scheme, host)| {
                matches!(scheme, "http" | "https") && !host.is_empty() && !host.contains('/')
            });
            if !valid {
                return Err(format!(
                    "has {entry:?}, which is not an origin like https://admin.example.com (or use *)"
                ));
            }
            origins.push(entry.to_ascii_lowercase());
        }
        Ok(if origins.is_empty() {
            Self::None
        } else {
            Self::List(origins)
        })
    }

    /// The `Access-Control-Allow-Origin` value for a request from `origin`, if allowed.
    pub fn allow(&self, origin: &HeaderValue) -> Option<HeaderValue> {
        match self {
            Self::None => None,
            Self::Any => Some(HeaderValue::from_static("*")),
            Self::List(origins) => {
                let text = origin.to_str().ok()?;
                origins
                    .iter()
                    .any(|o| o.eq_ignore_ascii_case(text))
                    .then(|| origin.clone())
            }
        }
    }
}

/// What a preflight gets.
#[derive(Debug, PartialEq, Eq)]
pub enum Preflight {
    /// Allowed: these headers go on a 204.
    Allowed(HeaderMap),
    /// Not a preflight (no `Origin`): a plain `OPTIONS`, answered with `Allow`.
    NotCors,
    /// The origin is not allowed.
    Refused,
}

/// Answers an `OPTIONS` on a browser route that accepts `method`.
pub fn preflight(origins: &CorsOrigins, request: &HeaderMap, method: &Method) -> Preflight {
    let Some(origin) = request.get(ORIGIN) else {
        return Preflight::NotCors;
    };
    let Some(allowed) = origins.allow(origin) else {
        return Preflight::Refused;
    };
    let mut headers = HeaderMap::new();
    headers.insert(ACCESS_CONTROL_ALLOW_ORIGIN, allowed);
    let methods = if method == Method::GET {
        "GET, OPTIONS"
    } else {
        "POST, OPTIONS"
    };
    headers.insert(
        ACCESS_CONTROL_ALLOW_METHODS,
        HeaderValue::from_static(methods),
    );
    headers.insert(
        ACCESS_CONTROL_ALLOW_HEADERS,
        HeaderValue::from_static(ALLOW_HEADERS),
    );
    headers.insert(ACCESS_CONTROL_MAX_AGE, HeaderValue::from_static("600"));
    headers.insert(VARY, HeaderValue::from_static("Origin"));
    Preflight::Allowed(headers)
}

/// Adds the CORS headers of an actual (non-preflight) response on a browser route.
pub fn decorate(origins: &CorsOrigins, request: &HeaderMap, response: &mut HeaderMap) {
    if *origins == CorsOrigins::None {
        return;
    }
    response.append(VARY, HeaderValue::from_static("Origin"));
    if let Some(allowed) = request.get(ORIGIN).and_then(|o| origins.allow(o)) {
        response.insert(ACCESS_CONTROL_ALLOW_ORIGIN, allowed);
        response.insert(
            ACCESS_CONTROL_EXPOSE_HEADERS,
            HeaderValue::from_static("x-request-id, retry-after"),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_origin(origin: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(
            ORIGIN,
            HeaderValue::from_str(origin).unwrap_or(HeaderValue::from_static("x")),
        );
        headers
    }

    #[test]
    fn parses_lists_and_star() {
        assert_eq!(CorsOrigins::parse("*"), Ok(CorsOrigins::Any));
        assert_eq!(CorsOrigins::parse(" , "), Ok(CorsOrigins::None));
        assert_eq!(
            CorsOrigins::parse("https://A.example.com/, http://127.0.0.1:8080"),
            Ok(CorsOrigins::List(vec![
                "https://a.example.com".into(),
                "http://127.0.0.1:8080".into()
            ]))
        );
        assert!(CorsOrigins::parse("a.example.com").is_err());
        assert!(CorsOrigins::parse("https://a.example.com/path").is_err());
    }

    #[test]
    fn preflight_allows_listed_origins_only() -> Result<(), String> {
        let origins = CorsOrigins::parse("https://admin.example.com")?;
        let allowed = preflight(
            &origins,
            &with_origin("https://admin.example.com"),
            &Method::POST,
        );
        let Preflight::Allowed(headers) = allowed else {
            return Err(format!("{allowed:?}"));
        };
        assert_eq!(
            headers[ACCESS_CONTROL_ALLOW_ORIGIN],
            "https://admin.example.com"
        );
        assert_eq!(headers[ACCESS_CONTROL_ALLOW_METHODS], "POST, OPTIONS");
        assert_eq!(
            preflight(
                &origins,
                &with_origin("https://evil.example"),
                &Method::POST
            ),
            Preflight::Refused
        );
        assert_eq!(
            preflight(&origins, &HeaderMap::new(), &Method::GET),
            Preflight::NotCors
        );
        Ok(())
    }

    #[test]
    fn responses_get_the_origin_only_when_allowed() -> Result<(), String> {
        let origins = CorsOrigins::parse("https://admin.example.com")?;
        let mut response = HeaderMap::new();
        decorate(
            &origins,
            &with_origin("https://evil.example"),
            &mut response,
        );
        assert!(response.get(ACCESS_CONTROL_ALLOW_ORIGIN).is_none());
        assert_eq!(response[VARY], "Origin");
        decorate(
            &origins,
            &with_origin("https://admin.example.com"),
            &mut response,
        );
        assert_eq!(
            response[ACCESS_CONTROL_ALLOW_ORIGIN],
            "https://admin.example.com"
        );
        Ok(())
    }
}
