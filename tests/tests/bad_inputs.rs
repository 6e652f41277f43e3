//! Bad input, counted: every kind of broken request an ETL job or a scanner can send to the
//! edge function (oversized and deeply nested bodies, invalid UTF-8, huge `errors` arrays,
//! unknown fields, wrong content types, wrong types, injection strings) gets its documented
//! 4xx (README, "Errors"), never a 5xx, and changes nothing.
//!
//! Run by `cargo xtask test reliability` (it records its figures for the final table).

use serde_json::json;
use vantage_sync_tests::edge::{Edge, EdgeResponse};
use vantage_sync_tests::figures::{Figures, Kind};
use vantage_sync_tests::{Db, Error, Result, Stack};

/// One bad request and the answer it must get.
struct Case {
    what: &'static str,
    route: &'static str,
    content_type: Option<&'static str>,
    body: Vec<u8>,
    status: u16,
    code: &'static str,
}

fn case(what: &'static str, route: &'static str, body: impl Into<Vec<u8>>, status: u16) -> Case {
    let code = match status {
        413 => "payload_too_large",
        415 => "unsupported_media_type",
        _ => "invalid_request",
    };
    Case {
        what,
        route,
        content_type: Some("application/json"),
        body: body.into(),
        status,
        code,
    }
}

fn json_case(
    what: &'static str,
    route: &'static str,
    body: &serde_json::Value,
    status: u16,
) -> Case {
    case(what, route, body.to_string(), status)
}

/// The resource the bad requests aim at (created by the test, never started).
const TARGET: &str = "bad_input_target";

fn errors(n: usize) -> Vec<serde_json::Value> {
    (0..n)
        .map(|i| json!({ "code": "E", "message": format!("m{i}") }))
        .collect()
}

fn nested(depth: usize) -> String {
    format!("{}{}", "[".repeat(depth), "]".repeat(depth))
}

fn cases() -> Vec<Case> {
    let mut cases = Vec::new();
    cases.extend(size_cases());
    cases.extend(shape_cases());
    cases.extend(type_cases());
    cases.extend(name_cases());
    cases.extend(content_type_cases());
    cases
}

fn size_cases() -> Vec<Case> {
    vec![
        case(
            "a body over 64 KiB",
            "fail",
            format!(
                r#"{{"resource":"{TARGET}","errors":[{{"code":"E","message":"{}"}}]}}"#,
                "x".repeat(70 * 1024)
            ),
            413,
        ),
        json_case(
            "101 errors (the limit is 100)",
            "fail",
            &json!({ "resource": TARGET, "errors": errors(101) }),
            400,
        ),
        json_case(
            "1,500 errors, still under 64 KiB",
            "fail",
            &json!({ "resource": TARGET, "errors": errors(1500) }),
            400,
        ),
        json_case(
            "an error message of 2,001 characters",
            "fail",
            &json!({ "resource": TARGET, "errors": [{ "code": "E", "message": "m".repeat(2001) }] }),
            400,
        ),
    ]
}

fn shape_cases() -> Vec<Case> {
    vec![
        case("JSON nested 30,000 deep", "start", nested(30_000), 400),
        case(
            "a resource nested 200 deep",
            "start",
            format!(r#"{{"resource":{}}}"#, nested(200)),
            400,
        ),
        case(
            "invalid UTF-8",
            "start",
            b"{\"resource\":\"acc\xff\xfeounts\"}".to_vec(),
            400,
        ),
        case(
            "a UTF-8 byte order mark",
            "start",
            b"\xef\xbb\xbf{\"resource\":\"bad_input_target\"}".to_vec(),
            400,
        ),
        case(
            "truncated JSON",
            "start",
            r#"{"resource":"bad_input_tar"#,
            400,
        ),
        case("an empty body", "start", "", 400),
        case("null", "start", "null", 400),
        case("a bare string", "start", r#""bad_input_target""#, 400),
        case(
            "trailing garbage",
            "start",
            r#"{"resource":"bad_input_target"} x"#,
            400,
        ),
        case(
            "a duplicate key",
            "start",
            r#"{"resource":"bad_input_target","resource":"accounts"}"#,
            400,
        ),
        json_case(
            "an unknown field",
            "start",
            &json!({ "resource": TARGET, "admin": true }),
            400,
        ),
        json_case(
            "an unknown field in complete",
            "complete",
            &json!({ "resource": TARGET, "records_synced": 1, "records_created": 0,
                     "records_updated": 0, "status": "success" }),
            400,
        ),
        json_case(
            "a missing field",
            "complete",
            &json!({ "records_synced": 1, "records_created": 0, "records_updated": 0 }),
            400,
        ),
        json_case(
            "one count of three",
            "complete",
            &json!({ "resource": TARGET, "records_synced": 1 }),
            400,
        ),
        json_case(
            "progress without a run id",
            "progress",
            &json!({ "resource": TARGET, "records_synced": 1 }),
            400,
        ),
        json_case(
            "an unknown field in progress",
            "progress",
            &json!({ "resource": TARGET, "run_id": "00000000-0000-4000-8000-000000000001",
                     "records_created": 1 }),
            400,
        ),
    ]
}

#[allow(
    clippy::too_many_lines,
    reason = "one table of cases and the loop that checks them, read top to bottom"
)]
fn type_cases() -> Vec<Case> {
    vec![
        json_case(
            "a number as resource",
            "start",
            &json!({ "resource": 42 }),
            400,
        ),
        json_case(
            "counts as strings",
            "complete",
            &json!({ "resource": TARGET, "records_synced": "1", "records_created": "0", "records_updated": "0" }),
            400,
        ),
        json_case(
            "a fractional count",
            "complete",
            &json!({ "resource": TARGET, "records_synced": 1.5, "records_created": 0, "records_updated": 0 }),
            400,
        ),
        case(
            "a count of 1e400",
            "complete",
            format!(
                r#"{{"resource":"{TARGET}","records_synced":1e400,"records_created":0,"records_updated":0}}"#
            ),
            400,
        ),
        json_case(
            "a negative count",
            "complete",
            &json!({ "resource": TARGET, "records_synced": -5, "records_created": 0, "records_updated": 0 }),
            400,
        ),
        json_case(
            "created + updated above synced",
            "complete",
            &json!({ "resource": TARGET, "records_synced": 1, "records_created": 1, "records_updated": 1 }),
            422,
        ),
        json_case(
            "errors as an object",
            "fail",
            &json!({ "resource": TARGET, "errors": { "code": "E" } }),
            400,
        ),
        json_case(
            "errors of strings",
            "fail",
            &json!({ "resource": TARGET, "errors": ["boom"] }),
            400,
        ),
        json_case(
            "an empty errors array",
            "fail",
            &json!({ "resource": TARGET, "errors": [] }),
            400,
        ),
        json_case(
            "a negative count so far",
            "progress",
            &json!({ "resource": TARGET, "run_id": "00000000-0000-4000-8000-000000000001",
                     "records_synced": -1 }),
            400,
        ),
        json_case(
            "a count so far as a string",
            "progress",
            &json!({ "resource": TARGET, "run_id": "00000000-0000-4000-8000-000000000001",
                     "records_synced": "10" }),
            400,
        ),
        json_case(
            "a progress run id that is not a UUID",
            "progress",
            &json!({ "resource": TARGET, "run_id": "'; DROP TABLE x; --" }),
            400,
        ),
        json_case(
            "a run id that is not a UUID",
            "complete",
            &json!({ "resource": TARGET, "run_id": "'; DROP TABLE x; --", "records_synced": 0,
                     "records_created": 0, "records_updated": 0 }),
            400,
        ),
    ]
}

fn name_cases() -> Vec<Case> {
    vec![
        json_case(
            "an empty resource",
            "start",
            &json!({ "resource": "" }),
            400,
        ),
        json_case(
            "a resource of 64 characters",
            "start",
            &json!({ "resource": "r".repeat(64) }),
            400,
        ),
        json_case(
            "SQL in the resource",
            "start",
            &json!({ "resource": "x'); DELETE FROM vantage_sync_state; --" }),
            400,
        ),
        json_case(
            "PostgREST syntax in the resource",
            "start",
            &json!({ "resource": "eq.accounts&select=*" }),
            400,
        ),
        json_case(
            "a path in the resource",
            "start",
            &json!({ "resource": "../../rpc/sweep" }),
            400,
        ),
        json_case(
            "a NUL in the resource",
            "start",
            &json!({ "resource": "acc\u{0}ounts" }),
            400,
        ),
        json_case(
            // PostgreSQL cannot store it: it was a 500, and the failure went unrecorded.
            "a NUL in an error message",
            "fail",
            &json!({ "resource": "accounts",
                     "errors": [{ "code": "E", "message": "binary \u{0} data" }] }),
            400,
        ),
        json_case(
            "Unicode look-alikes in the resource",
            "start",
            &json!({ "resource": "аccounts" }),
            400,
        ),
        json_case(
            "HTML in the resource",
            "start",
            &json!({ "resource": "<img src=x onerror=alert(1)>" }),
            400,
        ),
    ]
}

fn content_type_cases() -> Vec<Case> {
    let mut cases = Vec::new();
    for content_type in [
        None,
        Some("text/plain"),
        Some("application/x-www-form-urlencoded"),
        Some("multipart/form-data; boundary=x"),
        Some("application/jsonp"),
    ] {
        cases.push(Case {
            what: "a body that is not declared JSON",
            route: "start",
            content_type,
            body: json!({ "resource": TARGET }).to_string().into_bytes(),
            status: 415,
            code: "unsupported_media_type",
        });
    }
    cases
}

fn send(edge: &Edge, case: &Case) -> Result<EdgeResponse> {
    let auth = edge.writer_auth();
    let mut headers = vec![("authorization", auth.as_str())];
    if let Some(content_type) = case.content_type {
        headers.push(("content-type", content_type));
    }
    let path = format!("/functions/v1/vantage-sync/{}", case.route);
    if case.status == 413 {
        // The server answers before the whole body is sent: a careful client's send.
        return edge.send_oversized(&path, &headers, &case.body, false);
    }
    edge.send("POST", &path, &headers, Some(case.body.clone().into()))
}

#[test]
#[ignore = "part of the reliability figures: run by `cargo xtask test reliability`"]
fn every_bad_input_gets_its_documented_4xx_and_changes_nothing() -> Result<()> {
    let stack = Stack::load()?;
    let db = Db::connect(&stack)?;
    let edge = Edge::load(&stack)?;
    db.query(
        "INSERT INTO public.vantage_sync_state (resource) VALUES ($1) ON CONFLICT DO NOTHING",
        &[&TARGET],
    )?;
    let cases = cases();
    let mut server_errors = 0_u64;
    let mut problems = Vec::new();
    for case in &cases {
        let before = db.checksum_all_tables()?;
        let answer = send(&edge, case)?;
        let changed = db.checksum_all_tables()? != before;
        if answer.status >= 500 {
            server_errors += 1;
        }
        if answer.status != case.status || answer.code() != case.code || changed {
            problems.push(format!(
                "{} ({}): expected {} {}, got {answer}{}",
                case.what,
                case.route,
                case.status,
                case.code,
                if changed {
                    " and it CHANGED the database"
                } else {
                    ""
                }
            ));
        }
    }
    let figures = Figures {
        kind: Kind::BadInput,
        name: "bad requests to the edge function".to_owned(),
        tried: u64::try_from(cases.len()).unwrap_or(u64::MAX),
        bad: server_errors,
        runs_lost: 0,
        detail: format!(
            "{} kinds, {} answered other than documented, {server_errors} 5xx",
            cases.len(),
            problems.len()
        ),
    };
    println!("  {}: {}", figures.name, figures.detail);
    figures.record()?;
    if problems.is_empty() {
        Ok(())
    } else {
        Err(Error::Check(problems.join("\n  ")))
    }
}
