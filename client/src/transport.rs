//! One call to the function: the request with the writer token, retried on network errors, 5xx
//! and 429 for the policy's time, and the answer sorted into a value or an [`Error`].

use std::time::{Duration, Instant};

use reqwest::blocking::{Client as Http, RequestBuilder, Response};
use reqwest::header::{AUTHORIZATION, RETRY_AFTER};
use serde_json::Value;

use crate::error::{CurrentRun, Error, Result};
use crate::retry::{RetryPolicy, jitter};
use crate::settings::{Settings, WriterToken};

/// The function's base URL, the token and an HTTP client.
#[derive(Debug, Clone)]
pub(crate) struct Transport {
    base: String,
    token: WriterToken,
    retry: RetryPolicy,
    http: Http,
}

/// A call's answer and whether an earlier attempt of it may have landed.
pub(crate) struct Answer {
    /// The answer's body (2xx), or the error it maps to.
    pub result: Result<Value>,
    /// True when an earlier attempt was sent and got no answer (or a 5xx): it may have landed.
    pub retried: bool,
}

/// What one attempt came to.
enum Attempt {
    Done(Result<Value>),
    Again {
        why: String,
        after: Option<Duration>,
    },
}

impl Transport {
    /// A transport for `settings`.
    pub fn new(settings: &Settings) -> Result<Self> {
        let http = Http::builder()
            .timeout(settings.retry.attempt_timeout)
            .connect_timeout(Duration::from_secs(10))
            .user_agent(concat!("vantage-sync/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| Error::io("cannot set up the HTTP client", std::io::Error::other(e)))?;
        Ok(Self {
            base: settings.url.clone(),
            token: settings.token.clone(),
            retry: settings.retry,
            http,
        })
    }

    /// `POST <route>` with a JSON body, retried.
    pub fn post(&self, route: &str, body: &Value) -> Answer {
        let url = self.url(route);
        self.call(route, &url, || self.http.post(&url).json(body))
    }

    /// `GET <route>?<query>`, retried.
    pub fn get(&self, route: &str, query: &[(&str, &str)]) -> Answer {
        let url = self.url(route);
        self.call(route, &url, || self.http.get(&url).query(query))
    }

    fn url(&self, route: &str) -> String {
        format!("{}/{route}", self.base)
    }

    fn call(&self, route: &str, url: &str, request: impl Fn() -> RequestBuilder) -> Answer {
        let began = Instant::now();
        let mut attempts = 0u32;
        let mut retried = false;
        loop {
            attempts += 1;
            let sent = request().header(AUTHORIZATION, self.token.bearer()).send();
            let (why, after) = match classify(route, url, sent) {
                Attempt::Done(result) => return Answer { result, retried },
                Attempt::Again { why, after } => (why, after),
            };
            retried = true;
            let Some(pause) = self.retry.pause(attempts, began.elapsed(), after, jitter()) else {
                let result = Err(Error::Unreachable {
                    url: url.to_owned(),
                    after: began.elapsed(),
                    attempts,
                    last: why,
                });
                return Answer { result, retried };
            };
            std::thread::sleep(pause);
        }
    }
}

/// Sorts one attempt's outcome. Network errors are described without the URL's query or any
/// header (reqwest's messages name the URL, which holds no secret).
fn classify(route: &str, url: &str, sent: reqwest::Result<Response>) -> Attempt {
    let response = match sent {
        Ok(response) => response,
        Err(e) => {
            return Attempt::Again {
                why: network_error(&e),
                after: None,
            };
        }
    };
    let status = response.status().as_u16();
    let after = response
        .headers()
        .get(RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok())
        .map(Duration::from_secs);
    let text = match response.text() {
        Ok(text) => text,
        Err(e) => {
            return Attempt::Again {
                why: format!("the answer was cut off: {}", network_error(&e)),
                after: None,
            };
        }
    };
    if status >= 500 || status == 429 {
        return Attempt::Again {
            why: format!("HTTP {status}: {}", short(&text)),
            after,
        };
    }
    Attempt::Done(answer(route, url, status, &text))
}

fn network_error(e: &reqwest::Error) -> String {
    let kind = if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "cannot connect"
    } else {
        "network error"
    };
    let mut cause = String::new();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        cause = s.to_string();
        source = s.source();
    }
    if cause.is_empty() {
        kind.to_owned()
    } else {
        format!("{kind}: {cause}")
    }
}

/// A non-retried answer as a value or an error.
fn answer(route: &str, url: &str, status: u16, text: &str) -> Result<Value> {
    let json: Option<Value> = serde_json::from_str(text).ok();
    let edge_error = json
        .as_ref()
        .and_then(|j| j.get("error"))
        .filter(|e| e.get("code").and_then(Value::as_str).is_some());
    let Some(error) = edge_error else {
        return match json {
            Some(value) if (200..300).contains(&status) && value.is_object() => Ok(value),
            _ => Err(Error::NotTheFunction {
                url: url.to_owned(),
                status,
                detail: format!(": {}", short(text)),
            }),
        };
    };
    let code = error["code"].as_str().unwrap_or_default().to_owned();
    let message = error
        .get("message")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    Err(match (status, code.as_str()) {
        (401 | 403, _) => Error::Unauthorized { status, message },
        (404, "not_found") => Error::NoSuchRoute {
            route: route.to_owned(),
            message,
        },
        (409, _) => conflict(route, message, error.get("current_run")),
        _ => Error::Refused { code, message },
    })
}

fn conflict(route: &str, message: String, current: Option<&Value>) -> Error {
    let current_run = current.filter(|c| c.is_object()).map(|c| {
        let text = |name: &str| c.get(name).and_then(Value::as_str).map(str::to_owned);
        Box::new(CurrentRun {
            run_id: text("run_id"),
            status: text("status"),
            started_at: text("started_at"),
            completed_at: text("completed_at"),
        })
    });
    match current_run {
        Some(current_run)
            if route == "start" && current_run.status.as_deref() == Some("running") =>
        {
            Error::InProgress {
                message,
                current_run,
            }
        }
        current_run => Error::Conflict {
            message,
            current_run,
        },
    }
}

/// The first 200 characters of an answer, on one line.
fn short(text: &str) -> String {
    let line: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    match line.char_indices().nth(200) {
        Some((cut, _)) => format!("{}…", &line[..cut]),
        None => line,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    const URL: &str = "http://127.0.0.1:1/functions/v1/vantage-sync/start";

    #[test]
    fn edge_errors_map_to_their_variants() {
        let refused = r#"{"error":{"code":"unauthorized","message":"the token is not valid"}}"#;
        assert!(matches!(
            answer("start", URL, 401, refused),
            Err(Error::Unauthorized { status: 401, .. })
        ));
        let busy = r#"{"error":{"code":"conflict","message":"busy","current_run":{"run_id":"r1","status":"running","started_at":"t","completed_at":null}}}"#;
        let Err(Error::InProgress { current_run, .. }) = answer("start", URL, 409, busy) else {
            panic!("a start 409 is InProgress");
        };
        assert_eq!(current_run.run_id.as_deref(), Some("r1"));
        assert!(matches!(
            answer("complete", URL, 409, busy),
            Err(Error::Conflict {
                current_run: Some(_),
                ..
            })
        ));
        let bad = r#"{"error":{"code":"invalid_request","message":"\"resource\" must be"}}"#;
        assert!(matches!(
            answer("start", URL, 400, bad),
            Err(Error::Refused { .. })
        ));
        let missing = r#"{"error":{"code":"not_found","message":"no such route"}}"#;
        assert!(matches!(
            answer("progress", URL, 404, missing),
            Err(Error::NoSuchRoute { .. })
        ));
    }

    #[test]
    fn other_answers_are_not_the_function() {
        for (status, body) in [
            (404, "<html><body>404 Not Found</body></html>"),
            (200, "[]"),
            (400, r#"{"message":"No API key found in request"}"#),
        ] {
            assert!(
                matches!(
                    answer("start", URL, status, body),
                    Err(Error::NotTheFunction { .. })
                ),
                "{status} {body}"
            );
        }
        assert!(answer("start", URL, 200, r#"{"run_id":"x"}"#).is_ok());
    }

    #[test]
    fn long_answers_are_shortened() {
        let long = "x ".repeat(500);
        assert!(short(&long).chars().count() <= 201);
    }
}
