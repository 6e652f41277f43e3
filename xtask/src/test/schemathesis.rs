//! Schemathesis (PyPI) against PostgREST's own OpenAPI description, as anon and as a signed-in
//! user: thousands of generated requests (wrong types, odd headers, boundary values) to every
//! table, view and function the role can see, and not one may get a 5xx.
//!
//! The answers are counted from schemathesis's HAR report, not from its exit code, so the
//! figures say how many requests went out and what came back. PostgREST 12.0.2 answers a
//! `Range` header holding bytes that are not UTF-8 with a bare 500 ("Something went wrong",
//! from its HTTP server's last-resort handler) for roles that may read the table: an upstream
//! defect no migration can reach (reproducer: `curl -H $'Range: \xf5' …/vantage_sync_schedules`
//! with a user token). Those answers are counted and reported apart; any other 5xx fails.

use std::path::Path;
use std::process::Command;

use serde_json::Value;

use crate::error::{Result, XtaskError};
use crate::process::run_captured;
use crate::progress::Step;
use crate::test::figures::{self, Figures};
use crate::tools::SCHEMATHESIS;

/// The body of PostgREST's last-resort handler (see the module comment).
const POSTGREST_CRASH_BODY: &str = "Something went wrong";

/// Who schemathesis is.
pub struct Role<'a> {
    /// A name for the figures, e.g. `anon`.
    pub name: &'a str,
    /// The `apikey` header.
    pub apikey: &'a str,
    /// The bearer token.
    pub bearer: &'a str,
}

/// What the answers were.
#[derive(Debug, Default)]
struct Answers {
    requests: u64,
    server_errors: u64,
    upstream_crashes: u64,
    first_server_error: Option<String>,
}

/// Runs schemathesis against PostgREST at `rest_url` as `role`, `examples` per operation;
/// records the figures and fails on a 5xx that is not PostgREST's known crash.
pub fn run_against(st: &Path, rest_url: &str, role: &Role<'_>, examples: u32) -> Result<()> {
    let step = Step::start(format!(
        "schemathesis {} against PostgREST's OpenAPI as {} ({examples} examples per operation)",
        SCHEMATHESIS.pin(),
        role.name
    ));
    let har = figures::dir().join(format!("schemathesis-{}.har", role.name));
    let _ = std::fs::remove_file(&har);
    let mut cmd = Command::new(st);
    // Its cache folder (`.schemathesis/`) goes beside the reports, not into the work tree.
    cmd.current_dir(figures::dir())
        .arg("run")
        .arg(format!("{}/", rest_url.trim_end_matches('/')))
        // The document names PostgREST's own address; the requests go where it was read from.
        .arg("--url")
        .arg(rest_url.trim_end_matches('/'))
        .args(["--checks", "not_a_server_error"])
        .args(["--max-examples", &examples.to_string()])
        .args(["--seed", "20261125", "--no-color"])
        .args(["--report", "har", "--report-har-path"])
        .arg(&har)
        .arg("--header")
        .arg(format!("apikey: {}", role.apikey))
        .arg("--header")
        .arg(format!("Authorization: Bearer {}", role.bearer));
    // Its verdict is read from the HAR below: its exit code is 1 for any failure, including
    // the upstream crash that is reported apart.
    let _ = run_captured(&mut cmd);
    let answers = read_har(&har)?;
    step.note(format!(
        "{} requests, {} 5xx ({} of them PostgREST's own crash on a non-UTF-8 header)",
        answers.requests, answers.server_errors, answers.upstream_crashes
    ));
    let ours = answers.server_errors - answers.upstream_crashes;
    figures::record(&Figures {
        kind: "bad_input".to_owned(),
        name: format!("schemathesis on PostgREST as {}", role.name),
        tried: answers.requests,
        bad: ours,
        runs_lost: 0,
        detail: format!(
            "{} generated requests, {} 5xx; PostgREST 12.0.2's own 500 on a non-UTF-8 Range header seen {} times (upstream, counted apart)",
            answers.requests, ours, answers.upstream_crashes
        ),
    })?;
    if answers.requests == 0 {
        step.failed();
        return Err(XtaskError::Check(format!(
            "schemathesis sent no request as {} (see {})",
            role.name,
            har.display()
        )));
    }
    if ours > 0 {
        step.failed();
        return Err(XtaskError::Check(format!(
            "schemathesis as {}: {ours} answers were 5xx; the first: {}; all in {}",
            role.name,
            answers.first_server_error.unwrap_or_default(),
            har.display()
        )));
    }
    step.done();
    Ok(())
}

fn read_har(path: &Path) -> Result<Answers> {
    let text = std::fs::read_to_string(path).map_err(XtaskError::io("reading", path))?;
    let har: Value = serde_json::from_str(&text).map_err(|e| XtaskError::Unreadable {
        path: path.to_path_buf(),
        what: "a HAR report",
        reason: e.to_string(),
    })?;
    let mut answers = Answers::default();
    for entry in har["log"]["entries"].as_array().into_iter().flatten() {
        answers.requests += 1;
        let status = entry["response"]["status"].as_u64().unwrap_or(0);
        if status < 500 {
            continue;
        }
        answers.server_errors += 1;
        if is_upstream_crash(entry) {
            answers.upstream_crashes += 1;
        } else if answers.first_server_error.is_none() {
            answers.first_server_error = Some(format!(
                "{} {} → {status} {}",
                entry["request"]["method"].as_str().unwrap_or("?"),
                entry["request"]["url"].as_str().unwrap_or("?"),
                entry["response"]["content"]["text"]
                    .as_str()
                    .unwrap_or_default()
                    .chars()
                    .take(300)
                    .collect::<String>()
            ));
        }
    }
    Ok(answers)
}

/// Whether a 5xx is PostgREST's last-resort handler answering a request with a header value
/// outside ASCII (HAR shows the bytes decoded as Latin-1).
fn is_upstream_crash(entry: &Value) -> bool {
    let body_matches = entry["response"]["content"]["text"].as_str() == Some(POSTGREST_CRASH_BODY);
    let odd_header = entry["request"]["headers"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|h| h["value"].as_str())
        .any(|value| !value.is_ascii());
    body_matches && odd_header
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(status: u64, body: &str, header: &str) -> Value {
        serde_json::json!({
            "request": { "method": "GET", "url": "http://127.0.0.1:1/t",
                         "headers": [{ "name": "Range", "value": header }] },
            "response": { "status": status, "content": { "text": body } },
        })
    }

    #[test]
    fn only_postgrest_crash_on_a_non_ascii_header_is_set_apart() {
        assert!(is_upstream_crash(&entry(
            500,
            POSTGREST_CRASH_BODY,
            "\u{f5}S1"
        )));
        assert!(!is_upstream_crash(&entry(
            500,
            POSTGREST_CRASH_BODY,
            "0-10"
        )));
        assert!(!is_upstream_crash(&entry(
            500,
            "{\"code\":\"XX000\"}",
            "\u{f5}"
        )));
    }

    #[test]
    fn answers_are_counted_from_the_har() -> Result<()> {
        let har = serde_json::json!({ "log": { "entries": [
            entry(200, "[]", "0-1"),
            entry(500, POSTGREST_CRASH_BODY, "\u{f5}"),
            entry(503, "down", "0-1"),
        ] } });
        let path = std::env::temp_dir().join(format!("vantage-st-{}.har", std::process::id()));
        std::fs::write(&path, har.to_string()).map_err(XtaskError::io("writing", &path))?;
        let answers = read_har(&path);
        let _ = std::fs::remove_file(&path);
        let answers = answers?;
        assert_eq!(answers.requests, 3);
        assert_eq!(answers.server_errors, 2);
        assert_eq!(answers.upstream_crashes, 1);
        assert!(
            answers
                .first_server_error
                .is_some_and(|e| e.contains("503"))
        );
        Ok(())
    }
}
