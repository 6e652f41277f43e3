//! The truth table of health cases (`tests/fixtures/health_cases.json`) against the widget as
//! it ships, in a real browser: each case's row goes through the browser's JSON parser and the
//! widget's decoder (`decode::rows`, the one that reads PostgREST's answers), then the model, at
//! the table's own `now`. The SQL view and its rule functions are checked against the same file
//! (`tests/tests/health_truth_table.rs`), so the widget and the database agree on every case,
//! boundaries included.
//!
//! Two paths are checked: the rules themselves (`classify_health`, `alerts_of`), and a card
//! built from a `vantage_sync_state` row as PostgREST returns it when the view is absent (the
//! thresholds then come as interval text, as the view would send them).
#![cfg(target_arch = "wasm32")]
// A test that cannot read its fixture should stop right there, loudly.
#![allow(clippy::expect_used)]

use js_sys::{Array, JSON, Object, Reflect};
use vantage_sync_widget::decode::rows;
use vantage_sync_widget::model::{
    Alert, Card, Facts, Health, SECOND, Span, SyncRow, Thresholds, Timestamp, alerts_of,
    classify_health,
};
use wasm_bindgen::JsValue;
use wasm_bindgen_test::{wasm_bindgen_test, wasm_bindgen_test_configure};

wasm_bindgen_test_configure!(run_in_browser);

/// The fixture, parsed by the browser as PostgREST's answers are.
fn table() -> JsValue {
    let text = include_str!("../../tests/fixtures/health_cases.json");
    JSON::parse(text).expect("the truth table parses")
}

fn get(value: &JsValue, key: &str) -> JsValue {
    Reflect::get(value, &key.into()).expect("a readable field")
}

fn text(value: &JsValue, key: &str) -> String {
    let Some(text) = get(value, key).as_string() else {
        panic!("{key} is text")
    };
    text
}

fn cases(table: &JsValue) -> Vec<JsValue> {
    Array::from(&get(table, "cases")).iter().collect()
}

/// A threshold in seconds: the case's schedule's where it gives one, else the table's default.
fn seconds(case: &JsValue, defaults: &JsValue, key: &str) -> Option<i64> {
    let schedule = get(case, "schedule");
    let from_schedule = if schedule.is_object() {
        get(&schedule, key).as_f64()
    } else {
        None
    };
    // Whole seconds, far inside i64.
    #[allow(clippy::cast_possible_truncation)]
    from_schedule
        .or_else(|| get(defaults, key).as_f64())
        .map(|s| s as i64)
}

/// Seconds as PostgreSQL writes an interval (`IntervalStyle` `postgres`): `02:00:00`.
fn interval_text(seconds: i64) -> String {
    format!(
        "{:02}:{:02}:{:02}",
        seconds / 3600,
        seconds % 3600 / 60,
        seconds % 60
    )
}

const LIMITS: [&str; 5] = [
    "stale_after",
    "stuck_after",
    "slow_after",
    "expected_interval",
    "late_grace",
];

/// The case's row as the `vantage_sync_state` table returns it, with the view's threshold
/// columns when the case has a schedule.
fn state_row(case: &JsValue, defaults: &JsValue) -> Object {
    let row = Object::assign(&Object::new(), &get(case, "row").into());
    set(&row, "last_sync_status", &get(&row, "status"));
    Reflect::delete_property(&row, &"status".into()).expect("deletable");
    set(&row, "resource", &get(case, "name"));
    if get(case, "schedule").is_object() {
        for limit in LIMITS {
            let value = seconds(case, defaults, &format!("{limit}_s"))
                .map_or(JsValue::NULL, |s| interval_text(s).into());
            set(&row, limit, &value);
        }
    }
    row
}

fn set(object: &Object, key: &str, value: &JsValue) {
    Reflect::set(object, &key.into(), value).expect("a plain object takes fields");
}

/// `row` read by the widget's decoder, as one answer of PostgREST.
fn decoded(row: &Object) -> SyncRow {
    let mut rows = rows(&Array::of1(row)).expect("the decoder reads the row");
    assert_eq!(rows.len(), 1);
    rows.remove(0)
}

/// A health and alerts, written as the fixture writes them.
fn names(health: Health, alerts: &[Alert]) -> (String, Vec<String>) {
    (
        health.name().to_owned(),
        alerts.iter().map(|a| a.name().to_owned()).collect(),
    )
}

fn expected(case: &JsValue) -> (String, Vec<String>) {
    let expect = get(case, "expect");
    let alerts = Array::from(&get(&expect, "alerts"))
        .iter()
        .map(|a| a.as_string().expect("an alert name"))
        .collect();
    (text(&expect, "health"), alerts)
}

#[wasm_bindgen_test]
fn the_decoded_rows_agree_with_every_case_of_the_truth_table() {
    let table = table();
    let now = Timestamp::parse(&text(&table, "now")).expect("a valid now");
    let defaults = get(&table, "defaults");
    let cases = cases(&table);
    assert!(!cases.is_empty(), "the truth table has cases");
    let mut mismatches = Vec::new();
    for case in &cases {
        let name = text(case, "name");
        let expect = expected(case);
        let limit = |key| seconds(case, &defaults, key).map(|s| s * SECOND);
        let limits = Thresholds {
            stale_after: limit("stale_after_s").expect("a stale limit"),
            stuck_after: limit("stuck_after_s").expect("a stuck limit"),
            slow_after: limit("slow_after_s").expect("a slow limit"),
            expected_interval: limit("expected_interval_s"),
            late_grace: limit("late_grace_s").expect("a late grace"),
        };
        let row = decoded(&state_row(case, &defaults));
        let facts = Facts {
            status: row.status,
            last_sync_time: row.last_sync_time,
            started_at: row.started_at,
            created_at: row.created_at,
            duration: row.duration_ms.map(Span::from_millis),
            consecutive_failures: row.consecutive_failures.unwrap_or(0),
            last_heartbeat_at: row.last_heartbeat_at,
        };
        let rules = names(
            classify_health(&facts, &limits, now),
            &alerts_of(&facts, &limits, now),
        );
        if rules != expect {
            mismatches.push(format!(
                "{name:?}: expected {expect:?}, the rules say {rules:?}"
            ));
        }
        let card = Card::from_row(row, now);
        let from_table = names(card.health, &card.alerts);
        if from_table != expect {
            mismatches.push(format!(
                "{name:?}: expected {expect:?}, a card from the table row says {from_table:?}"
            ));
        }
    }
    assert!(
        mismatches.is_empty(),
        "{} mismatch(es):\n{}",
        mismatches.len(),
        mismatches.join("\n")
    );
}

#[wasm_bindgen_test]
fn a_card_from_the_view_keeps_the_views_health_and_alerts() {
    // The rules exist in SQL (the view, the rule functions) and in Rust (model/health.rs), and
    // the truth table keeps them equal. When a row carries the view's health, the card shows
    // what the view says, even if the browser's clock would judge otherwise.
    let table = table();
    let case = &cases(&table)[0];
    let row = state_row(case, &get(&table, "defaults"));
    set(&row, "health", &"red".into());
    set(
        &row,
        "alerts",
        &Array::of2(&"stuck".into(), &"a_future_alert".into()),
    );
    let row = decoded(&row);
    let now = Timestamp::parse(&text(&table, "now")).expect("a valid now");
    let card = Card::from_row(row, now);
    assert_eq!(card.health, Health::Red);
    assert_eq!(card.alerts, [Alert::Stuck]);
}

#[wasm_bindgen_test]
fn the_models_alert_names_and_order_are_the_tables() {
    let table = table();
    let names: Vec<String> = [
        Alert::Stuck,
        Alert::Stale,
        Alert::RepeatedFailures,
        Alert::Slow,
        Alert::MissedSchedule,
        Alert::Late,
    ]
    .iter()
    .map(|a| a.name().to_owned())
    .collect();
    let order: Vec<String> = Array::from(&get(&table, "alert_order"))
        .iter()
        .map(|a| a.as_string().expect("an alert name"))
        .collect();
    assert_eq!(names, order);
    for case in cases(&table) {
        let status = text(&get(&case, "row"), "status");
        assert!(
            matches!(
                status.as_str(),
                "success" | "failed" | "running" | "never_run"
            ),
            "{}: a status the model knows",
            text(&case, "name")
        );
    }
}
