//! Reading PostgREST's JSON (as the browser parses it) into model rows, in a real browser.
#![cfg(target_arch = "wasm32")]
// A test whose fixture does not parse should stop right there.
#![allow(clippy::expect_used)]

use vantage_sync_widget::decode::{rows, string_field};
use vantage_sync_widget::model::{Health, Status, Timestamp};
use wasm_bindgen::JsValue;
use wasm_bindgen_test::{wasm_bindgen_test, wasm_bindgen_test_configure};

wasm_bindgen_test_configure!(run_in_browser);

fn parse(json: &str) -> JsValue {
    js_sys::JSON::parse(json).expect("valid JSON")
}

#[wasm_bindgen_test]
fn a_view_answer_becomes_rows() {
    let answer = parse(
        r#"[{"resource":"funds","last_sync_status":"failed","health":"red",
             "alerts":["repeated_failures"],"last_sync_time":"2025-11-05T09:00:00+00:00",
             "started_at":"2025-11-05T11:54:00.5+00:00","completed_at":null,
             "created_at":"2025-10-06T12:00:00+00:00","duration_ms":60000,"records_synced":0,
             "errors":[{"code":"API_TIMEOUT","message":"timed out","retry":{"after":30}},
                       "plain text", 42],
             "consecutive_failures":3,"stale_after":"1 day","stuck_after":"00:30:00",
             "slow_after":"00:05:00","expected_interval":null,"hours_since_sync":3.0},
            {"resource":"accounts","last_sync_status":"some_future_status",
             "last_sync_time":null,"created_at":"2025-10-06T12:00:00Z","errors":[]}]"#,
    );
    let rows = rows(&answer).expect("rows");
    assert_eq!(rows.len(), 2);
    let funds = &rows[0];
    assert_eq!(funds.status, Status::Failed);
    assert_eq!(funds.health, Some(Health::Red));
    assert_eq!(funds.alerts, Some(vec!["repeated_failures".to_owned()]));
    assert_eq!(
        funds.started_at,
        Timestamp::parse("2025-11-05T11:54:00.500Z")
    );
    assert_eq!(funds.completed_at, None);
    assert_eq!(funds.duration_ms, Some(60_000));
    assert_eq!(funds.consecutive_failures, Some(3));
    assert_eq!(funds.stuck_after.as_deref(), Some("00:30:00"));
    let errors = funds.errors.clone().unwrap_or_default();
    assert_eq!(errors[0].code.as_deref(), Some("API_TIMEOUT"));
    assert_eq!(errors[0].message.as_deref(), Some("timed out"));
    assert_eq!(
        errors[0].details,
        [("retry".to_owned(), r#"{"after":30}"#.to_owned())]
    );
    assert_eq!(errors[1].message.as_deref(), Some("plain text"));
    assert_eq!(errors[2].message.as_deref(), Some("42"));

    let accounts = &rows[1];
    assert_eq!(accounts.status, Status::Other);
    assert_eq!(accounts.health, None);
    assert_eq!(accounts.consecutive_failures, None);
}

#[wasm_bindgen_test]
fn the_heartbeat_and_the_counts_flag_are_read() {
    let answer = parse(
        r#"[{"resource":"funds","last_sync_status":"running","started_at":"2025-11-05T10:00:00+00:00",
             "last_heartbeat_at":"2025-11-05T11:59:40.25+00:00","records_so_far":45200,
             "counts_reported":false},
            {"resource":"accounts","last_sync_status":"running","last_heartbeat_at":null,
             "records_so_far":null}]"#,
    );
    let decoded = rows(&answer).expect("rows");
    assert_eq!(
        decoded[0].last_heartbeat_at,
        Timestamp::parse("2025-11-05T11:59:40.250Z")
    );
    assert_eq!(decoded[0].records_so_far, Some(45_200));
    assert_eq!(decoded[0].counts_reported, Some(false));
    assert_eq!(decoded[1].last_heartbeat_at, None);
    assert_eq!(decoded[1].records_so_far, None);
    assert_eq!(decoded[1].counts_reported, None);
    let bad =
        parse(r#"[{"resource":"x","last_sync_status":"running","last_heartbeat_at":"soon"}]"#);
    assert!(
        rows(&bad).is_none(),
        "an unreadable heartbeat time is refused"
    );
}

#[wasm_bindgen_test]
fn a_spec_only_table_row_becomes_a_row() {
    let answer = parse(
        r#"[{"resource":"investments","last_sync_status":"never_run","last_sync_time":null,
             "records_synced":0,"records_created":0,"records_updated":0,"errors":[],
             "started_at":null,"completed_at":null,"duration_ms":null,
             "created_at":"2025-11-05T11:00:00+00:00","updated_at":"2025-11-05T11:00:00+00:00"}]"#,
    );
    let rows = rows(&answer).expect("rows");
    let row = &rows[0];
    assert_eq!(row.status, Status::NeverRun);
    assert_eq!(row.created_at, Timestamp::parse("2025-11-05T11:00:00Z"));
    assert_eq!(row.errors, Some(Vec::new()));
    assert_eq!(row.health, None);
    assert_eq!(row.consecutive_failures, None);
    assert_eq!(row.stale_after, None);
}

#[wasm_bindgen_test]
fn what_is_not_rows_is_refused() {
    for bad in [
        r#"{"code":"PGRST205"}"#,
        r#"[{"last_sync_status":"success"}]"#,
        r#"[{"resource":"a","last_sync_status":"success","last_sync_time":"yesterday"}]"#,
    ] {
        assert_eq!(rows(&parse(bad)), None, "{bad}");
    }
    assert_eq!(
        string_field(
            &parse(r#"{"code":"PGRST303","message":"JWT expired"}"#),
            "code"
        )
        .as_deref(),
        Some("PGRST303")
    );
}
