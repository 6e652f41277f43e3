//! The widget's requests to its servers: sync health through PostgREST with the publishable
//! key and the user's JWT (role `authenticated`, read-only by RLS), and an admin's abort through
//! the edge function. They go out through the fetch layer (`http.rs`).
//!
//! It reads `vantage_sync_health` (rules applied by the database); on a database that has only
//! the spec's migration (PostgREST answers 404 / `PGRST205` for the view) it reads
//! `vantage_sync_state` instead and the model applies the default thresholds. JSON is parsed by
//! the browser (`Response.json()`) and read by `decode.rs`, which keeps a JSON parser and serde
//! out of the bundle.

use std::fmt;

use js_sys::{JSON, Object, Reflect};
use postgrest_dialect::{PAGE_ROWS, Pages, is_missing_from_schema, refuses_token};
use wasm_bindgen::JsValue;

use crate::browser;
use crate::config::Config;
use crate::decode::{self, Changes};
use crate::http::{self, Method, Reply};
use crate::model::{RunSummary, SECOND, Span, SyncRow, Timestamp};

/// What one read returned.
#[derive(Clone, Debug, PartialEq)]
pub struct Snapshot {
    /// One row per resource, in the view's order (red, yellow, green, name) or by name from the
    /// table (callers sort cards either way).
    pub rows: Vec<SyncRow>,
    /// Whether the rows came from the health view (else from the state table).
    pub from_view: bool,
    /// Server clock minus browser clock (zero when unknown or within a second).
    pub clock_offset: Span,
    /// When the answer arrived, by the browser's clock.
    pub received_at: Timestamp,
}

/// Why a read failed, as the user should hear it. Database text is never shown.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ApiError {
    /// 401, `PGRST301` (invalid JWT), `PGRST303` (JWT expired) or a token whose role does not
    /// exist: the user must sign in again.
    SessionExpired,
    /// The request did not get an answer (network, CORS, server down).
    Unreachable,
    /// The server answered with an error status.
    Http {
        /// HTTP status.
        status: u16,
        /// PostgREST's or PostgreSQL's error code, when it sent one.
        code: Option<String>,
    },
    /// The answer was not the rows this widget reads.
    BadData,
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::SessionExpired => f.write_str("Your session has expired \u{2014} sign in again"),
            Self::Unreachable => f.write_str("Can't reach the server"),
            Self::Http { status: 403, .. } => {
                f.write_str("Your account may not read the sync status (HTTP 403)")
            }
            Self::Http { status, code } => match code {
                Some(code) => write!(f, "The server could not answer (HTTP {status}, {code})"),
                None => write!(f, "The server could not answer (HTTP {status})"),
            },
            Self::BadData => f.write_str("The server sent data this widget does not understand"),
        }
    }
}

/// What a failed response means for the widget.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Failure {
    /// The relation does not exist (404 / `PGRST205`): read the state table instead.
    NoSuchRelation,
    /// A definite error.
    Error(ApiError),
}

/// Classifies a non-2xx response by its status and PostgREST `code`, in the words of either
/// PostgREST version (`postgrest_dialect`); the `message` is only matched for one case, never
/// kept or shown.
pub fn classify_failure(status: u16, code: Option<&str>, message: Option<&str>) -> Failure {
    let text = code.unwrap_or("");
    if refuses_token(status, text, message) {
        Failure::Error(ApiError::SessionExpired)
    } else if is_missing_from_schema(status, text) {
        Failure::NoSuchRelation
    } else {
        Failure::Error(ApiError::Http {
            status,
            code: code.map(str::to_owned),
        })
    }
}

/// The `Authorization` value for `token`; none for an empty token, which PostgREST 12.0.2
/// reads as no token (the `anon` role) and 13+ refuses with `PGRST301` (#3600).
fn bearer(token: Option<&str>) -> Option<String> {
    token
        .filter(|token| !token.is_empty())
        .map(|token| format!("Bearer {token}"))
}

/// The server's clock minus the browser's, from the `Date` header of an answer that arrived at
/// `received`. The header has whole seconds, so half a second is added, and an offset within
/// a second is taken as none (it would only make "just now" flicker).
pub fn clock_offset(date_header: Option<&str>, received: Timestamp) -> Span {
    date_header
        .and_then(Timestamp::parse_http_date)
        .map(|server| server.plus(SECOND / 2).since(received))
        .filter(|offset| offset.abs() > SECOND)
        .unwrap_or(Span::ZERO)
}

/// Percent-encodes a query value (everything but RFC 3986's unreserved characters).
pub fn encode_component(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(byte));
        } else {
            const HEX: &[u8; 16] = b"0123456789ABCDEF";
            out.push('%');
            out.push(char::from(HEX[usize::from(byte >> 4)]));
            out.push(char::from(HEX[usize::from(byte & 15)]));
        }
    }
    out
}

/// The URL of a read of `relation`, for one resource in compact mode.
pub fn read_url(config: &Config, relation: &str, order: &str) -> String {
    let mut url = format!("{}/{relation}?order={order}", config.rest_url);
    if let Some(resource) = &config.resource {
        url.push_str("&resource=eq.");
        url.push_str(&encode_component(resource));
    }
    url
}

/// The columns a card shows, and `updated_at`, which refreshes read by: the widget's
/// `select=`, and the keys of `vantage_sync_health_changes`' rows (migration 20261207190000).
/// Health and alerts are not among them: the model computes them at each refresh's clock.
pub const CARD_COLUMNS: &str = "resource,last_sync_status,last_sync_time,started_at,\
    completed_at,created_at,updated_at,duration_ms,records_synced,errors,consecutive_failures,\
    stale_after,stuck_after,slow_after,expected_interval,late_grace,next_attempt,\
    retry_max_attempts,next_attempt_at,retries_exhausted,last_heartbeat_at,records_so_far,\
    counts_reported";

/// Cards on the first screen, read before anything else (problems first); also the list's
/// page size.
pub const FIRST_SCREEN: usize = 50;

/// The first screen's cards: the view's first rows in its order (red, yellow, green, name).
/// `index.html`'s head script requests this very URL early (a test keeps the two equal).
pub fn first_screen_url(rest_url: &str) -> String {
    format!(
        "{rest_url}/vantage_sync_health?select={CARD_COLUMNS}&order=sort_key&limit={FIRST_SCREEN}"
    )
}

/// The URL of `vantage_sync_health_changes`, called with POST: one URL whatever is asked, so
/// the browser's preflight for it is made once and cached.
pub fn changes_url(rest_url: &str) -> String {
    format!("{rest_url}/rpc/vantage_sync_health_changes")
}

/// The first screen: the view's first rows, problems first.
pub async fn read_first_screen(
    config: &Config,
    token: Option<&str>,
) -> Result<Vec<SyncRow>, Failure> {
    let url = first_screen_url(&config.rest_url);
    Ok(get_rows(config, token, &url).await?.rows)
}

/// The next page of every row in name order, after `after` (from the start: none). Keyset
/// paging: a row that changes or is inserted meanwhile never shifts the pages.
pub async fn read_page_after(
    config: &Config,
    token: Option<&str>,
    after: Option<&str>,
) -> Result<Vec<SyncRow>, Failure> {
    let mut url = format!(
        "{}/vantage_sync_health?select={CARD_COLUMNS}&order=resource&limit={PAGE_ROWS}",
        config.rest_url
    );
    if let Some(after) = after {
        url.push_str("&resource=gt.");
        url.push_str(&encode_component(after));
    }
    Ok(get_rows(config, token, &url).await?.rows)
}

/// What changed at or after `since` (nothing: the exact counts instead), with the digest of
/// the same snapshot. `NoSuchRelation` when the database predates the function.
pub async fn read_changes(
    config: &Config,
    token: Option<&str>,
    since: Option<Timestamp>,
) -> Result<(Changes, Span), Failure> {
    let body = match since {
        Some(since) => format!("{{\"p_since\":\"{}\"}}", since.to_rfc3339()),
        None => "{}".to_owned(),
    };
    let (value, date, received_at) =
        request_json(config, token, &changes_url(&config.rest_url), Some(body)).await?;
    let changes = decode::changes(&value).ok_or(Failure::Error(ApiError::BadData))?;
    Ok((changes, clock_offset(date.as_deref(), received_at)))
}

/// Reads every resource's health (or the one resource of compact mode) as the user whose
/// `token` is given (none: with the publishable key alone).
pub async fn fetch_health(config: &Config, token: Option<&str>) -> Result<Snapshot, ApiError> {
    let view = get_all_rows(
        config,
        token,
        &read_url(config, "vantage_sync_health", "sort_key"),
    )
    .await;
    let (answer, from_view) = match view {
        Err(Failure::NoSuchRelation) => {
            let url = read_url(config, "vantage_sync_state", "resource");
            (get_all_rows(config, token, &url).await, false)
        }
        other => (other, true),
    };
    let answer = answer.map_err(Failure::into_error)?;
    Ok(Snapshot {
        rows: answer.rows,
        from_view,
        clock_offset: answer.clock_offset,
        received_at: answer.received_at,
    })
}

/// Every row of `url`, page by page, with the clock of the last page (when the read ended).
async fn get_all_rows(config: &Config, token: Option<&str>, url: &str) -> Result<Answer, Failure> {
    let mut pages = Pages::default();
    let mut rows = Vec::new();
    loop {
        let mut page = get_rows(config, token, &pages.url(url)).await?;
        let more = pages.advance(page.rows.len());
        rows.append(&mut page.rows);
        if !more {
            page.rows = rows;
            return Ok(page);
        }
    }
}

impl Failure {
    /// What the user hears of it.
    pub fn into_error(self) -> ApiError {
        match self {
            // Neither the view nor the table: the migrations are not applied.
            Self::NoSuchRelation => ApiError::Http {
                status: 404,
                code: None,
            },
            Self::Error(e) => e,
        }
    }
}

/// A successful read.
struct Answer {
    rows: Vec<SyncRow>,
    clock_offset: Span,
    received_at: Timestamp,
}

async fn get_rows(config: &Config, token: Option<&str>, url: &str) -> Result<Answer, Failure> {
    let (body, date, received_at) = request_json(config, token, url, None).await?;
    let rows = decode::rows(&body).ok_or(Failure::Error(ApiError::BadData))?;
    Ok(Answer {
        rows,
        clock_offset: clock_offset(date.as_deref(), received_at),
        received_at,
    })
}

/// A successful request's parsed body, its `Date` header, and when it arrived: a GET, or a
/// POST of the JSON `body`. The head script's early reads answer it when one was this very
/// request (`boot.rs`).
async fn request_json(
    config: &Config,
    token: Option<&str>,
    url: &str,
    body: Option<String>,
) -> Result<(JsValue, Option<String>, Timestamp), Failure> {
    let early = crate::boot::early_read(url, body.as_deref(), &config.api_key, token).await;
    let reply = match early {
        Some(read_early) => read_early,
        None => send(config, token, url, body).await?,
    };
    let received_at = browser::now();
    if !reply.ok() {
        // Only PostgREST's code is used: its messages may hold SQL details (one is matched).
        let field = |name: &str| {
            reply
                .body
                .as_ref()
                .and_then(|b| decode::string_field(b, name))
        };
        let (code, message) = (field("code"), field("message"));
        return Err(classify_failure(
            reply.status,
            code.as_deref(),
            message.as_deref(),
        ));
    }
    let body = reply.body.ok_or(Failure::Error(ApiError::BadData))?;
    Ok((body, reply.date, received_at))
}

/// Sends `GET url`, or `POST url` with the JSON `body`, with the key and the user's token.
async fn send(
    config: &Config,
    token: Option<&str>,
    url: &str,
    body: Option<String>,
) -> Result<Reply, Failure> {
    let authorization = bearer(token);
    let mut headers = vec![
        ("apikey", config.api_key.as_str()),
        ("Accept", "application/json"),
    ];
    if let Some(authorization) = &authorization {
        headers.push(("Authorization", authorization));
    }
    let method = if body.is_some() {
        headers.push(("Content-Type", "application/json"));
        Method::POST
    } else {
        Method::GET
    };
    http::send(method, url, &headers, body)
        .await
        .ok_or(Failure::Error(ApiError::Unreachable))
}

/// The last 20 runs of `resource`, newest first, from `vantage_sync_runs` (a database with
/// only the spec's migration has none: an error that says so).
pub async fn fetch_runs(
    config: &Config,
    token: Option<&str>,
    resource: &str,
) -> Result<Vec<RunSummary>, ApiError> {
    let url = format!(
        "{}/vantage_sync_runs?select=status,started_at,duration_ms,records_synced,errors\
         &resource=eq.{}&order=started_at.desc&limit=20",
        config.rest_url,
        encode_component(resource)
    );
    let (body, _, _) = request_json(config, token, &url, None)
        .await
        .map_err(Failure::into_error)?;
    decode::runs(&body).ok_or(ApiError::BadData)
}

/// Asks the edge function under `functions_url` to abort the run of `resource` in progress, as
/// the user of `token`; what happened, in words (the edge's own message on a refusal: it never
/// holds SQL or secrets).
pub async fn abort_run(functions_url: &str, token: &str, resource: &str) -> Result<String, String> {
    let body = Object::new();
    // Setting properties on a fresh plain object cannot fail.
    let _ = Reflect::set(&body, &"resource".into(), &resource.into());
    let _ = Reflect::set(
        &body,
        &"reason".into(),
        &"Aborted from the sync status widget".into(),
    );
    let body = JSON::stringify(&body)
        .ok()
        .and_then(|b| b.as_string())
        .unwrap_or_default();
    let bearer = format!("Bearer {token}");
    let headers = [
        ("Authorization", bearer.as_str()),
        ("Content-Type", "application/json"),
    ];
    let url = format!("{functions_url}/vantage-sync/abort");
    let reply = http::send(Method::POST, &url, &headers, Some(body))
        .await
        .ok_or("Can't reach the edge function.")?;
    if reply.ok() {
        return Ok("Run aborted: it is recorded as failed (ABORTED).".to_owned());
    }
    let message = reply
        .body
        .and_then(|b| Reflect::get(&b, &"error".into()).ok())
        .and_then(|e| decode::string_field(&e, "message"));
    Err(message.unwrap_or_else(|| format!("The edge function refused (HTTP {}).", reply.status)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_head_script_makes_the_widgets_first_two_requests() {
        // The early reads serve only when they are these very requests (boot.rs).
        let page = include_str!("../index.html");
        let first = format!("read(`{}`)", first_screen_url("${rest}"));
        assert!(page.contains(&first), "index.html reads {first}");
        let changes = format!("read(`{}`, \"{{}}\")", changes_url("${rest}"));
        assert!(page.contains(&changes), "index.html reads {changes}");
    }

    /// Each meaning of the PostgREST dialect, as the user hears it (the dialect's own tests
    /// feed both versions' answers to each rule: `postgrest-dialect/src/meaning.rs`).
    #[test]
    fn failures_map_to_what_the_user_can_do() {
        assert_eq!(
            classify_failure(401, Some("PGRST301"), None),
            Failure::Error(ApiError::SessionExpired)
        );
        assert_eq!(
            classify_failure(401, None, None),
            Failure::Error(ApiError::SessionExpired)
        );
        assert_eq!(
            classify_failure(400, Some("PGRST303"), None),
            Failure::Error(ApiError::SessionExpired)
        );
        assert_eq!(
            classify_failure(404, Some("PGRST205"), None),
            Failure::NoSuchRelation
        );
        assert_eq!(classify_failure(404, None, None), Failure::NoSuchRelation);
        // The message reaches the dialect's role test (PostgREST 12.0.2's answer).
        assert_eq!(
            classify_failure(400, Some("22023"), Some("role \"x\" does not exist")),
            Failure::Error(ApiError::SessionExpired)
        );
        let forbidden = classify_failure(403, Some("42501"), None);
        assert_eq!(
            forbidden,
            Failure::Error(ApiError::Http {
                status: 403,
                code: Some("42501".into())
            })
        );
        assert_eq!(
            ApiError::SessionExpired.to_string(),
            "Your session has expired \u{2014} sign in again"
        );
        assert_eq!(
            ApiError::Http {
                status: 500,
                code: Some("XX000".into())
            }
            .to_string(),
            "The server could not answer (HTTP 500, XX000)"
        );
    }

    #[test]
    fn the_date_header_corrects_a_wrong_browser_clock() {
        let server = Timestamp::parse("2025-11-05T12:00:00Z").expect("the server's time parses");
        let header = Some("Wed, 05 Nov 2025 12:00:00 GMT");
        // The browser is 5 minutes slow.
        assert_eq!(
            clock_offset(header, server.plus(-300 * SECOND)),
            300 * SECOND + SECOND / 2
        );
        // Within a second: no correction.
        assert_eq!(clock_offset(header, server), Span::ZERO);
        assert_eq!(clock_offset(None, server), Span::ZERO);
        assert_eq!(clock_offset(Some("garbage"), server), Span::ZERO);
    }

    #[test]
    fn urls_read_the_view_sorted_and_one_resource_in_compact_mode() {
        let mut config = Config::from_pairs([
            ("rest-url", "http://127.0.0.1:3000/"),
            ("publishable-key", "sb_publishable_x"),
        ])
        .expect("a valid configuration");
        assert_eq!(
            read_url(&config, "vantage_sync_health", "sort_key"),
            "http://127.0.0.1:3000/vantage_sync_health?order=sort_key"
        );
        config.resource = Some("a&b=c d".into());
        assert_eq!(
            read_url(&config, "vantage_sync_state", "resource"),
            "http://127.0.0.1:3000/vantage_sync_state?order=resource&resource=eq.a%26b%3Dc%20d"
        );
    }

    #[test]
    fn an_empty_token_is_never_sent() {
        // 12.0.2 reads `Bearer ` as anon, 13+ refuses it (PGRST301): send none instead.
        assert_eq!(bearer(Some("")), None);
        assert_eq!(bearer(None), None);
        assert_eq!(bearer(Some("a.b.c")).as_deref(), Some("Bearer a.b.c"));
    }
}
